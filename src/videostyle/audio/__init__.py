"""Style transfer for sound: Let it Bee (Driedger et al. 2015) and spectrogram texture transfer (Ulyanov and Lebedev 2016).

:func:`videostyle.audio.api.stylize_audio` runs either; :mod:`.io` reads any audio (or a video's soundtrack)
as mono samples and writes WAV/FLAC/OGG; :mod:`.measures` scores a result against its target and source.
"""
