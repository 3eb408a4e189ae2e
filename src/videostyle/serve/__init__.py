"""The web page (``videostyle serve``, extra ``videostyle[web]``): :mod:`.jobs` holds the jobs
without Gradio, :mod:`.app` the Gradio page."""
