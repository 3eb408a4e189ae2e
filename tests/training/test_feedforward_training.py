import numpy as np
import pytest
import torch
from PIL import Image

from synthetic import texture
from videostyle.errors import VideostyleError
from videostyle.models import load_transformer, read_model, save_model
from videostyle.training.data import TrainingImages, load_sources
from videostyle.training.feedforward import TrainOptions, train_transformer
from videostyle.training.loop import RunControl

TINY = dict(arch="fast", size=32, batch_size=2, style_size=48, checkpoint_every=2)


@pytest.fixture
def training_files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for seed in range(3):
        Image.fromarray(texture(48, 64, seed=seed)).save(data / f"photo{seed}.png")
    styles = []
    for name, seed in (("waves", 10), ("dots", 11)):
        path = tmp_path / f"{name}.png"
        Image.fromarray(texture(40, 40, seed=seed)).save(path)
        styles.append(path)
    return data, styles


def test_batches_are_deterministic_per_step(training_files):
    data, _ = training_files
    images = TrainingImages(load_sources([data]), size=24, seed=3)
    first, again, other = images.batch(5, 3), images.batch(5, 3), images.batch(6, 3)
    assert first.shape == (3, 3, 24, 24) and first.min() >= 0 and first.max() <= 1
    torch.testing.assert_close(first, again)
    assert not torch.equal(first, other)


def test_a_few_steps_lower_the_loss(training_files, encoder, tmp_path):
    data, styles = training_files
    out = tmp_path / "model.safetensors"
    summary = train_transformer(styles[:1], [data], out, TrainOptions(steps=12, learning_rate=1e-2, **TINY), RunControl(encoder=encoder))
    rows = summary_rows(summary.log_path)
    assert np.mean(rows[-3:]) < 0.8 * np.mean(rows[:3])
    assert summary.plot_path.is_file() and not (tmp_path / ".model.safetensors.train").exists()
    network, info = load_transformer(out)
    assert info["kind"] == "transformer" and info["config"]["style_names"] == ["waves"]
    assert network(torch.rand(1, 3, 20, 20)).shape == (1, 3, 20, 20)


def summary_rows(path):
    import csv

    with open(path, newline="") as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle)]


def test_interrupted_training_resumes_to_the_same_weights(training_files, encoder, tmp_path):
    data, styles = training_files
    options = TrainOptions(steps=4, **TINY)
    straight = tmp_path / "straight.safetensors"
    train_transformer(styles, [data], straight, options, RunControl(encoder=encoder))

    resumed = tmp_path / "resumed.safetensors"
    calls = []

    def stop_after_two(report):
        calls.append(report.step)
        if report.step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_transformer(styles, [data], resumed, options, RunControl(encoder=encoder, on_step=stop_after_two))
    assert not resumed.exists() and (tmp_path / ".resumed.safetensors.train" / "checkpoint.safetensors").is_file()
    summary = train_transformer(styles, [data], resumed, options, RunControl(encoder=encoder))
    assert summary.resumed_from == 2
    a, _ = read_model(straight)
    b, info = read_model(resumed)
    assert info["config"]["num_styles"] == 2
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)
    assert len(summary_rows(summary.log_path)) == 4


def test_other_settings_refuse_an_old_run_folder_unless_restarted(training_files, encoder, tmp_path):
    data, styles = training_files
    out = tmp_path / "m.safetensors"
    with pytest.raises(KeyboardInterrupt):
        train_transformer(styles[:1], [data], out, TrainOptions(steps=4, **TINY), RunControl(encoder=encoder, on_step=_interrupt_at(3)))
    with pytest.raises(VideostyleError, match="other settings"):
        train_transformer(styles[:1], [data], out, TrainOptions(steps=4, tv_weight=1.0, **TINY), RunControl(encoder=encoder))
    summary = train_transformer(styles[:1], [data], out, TrainOptions(steps=3, tv_weight=1.0, **TINY), RunControl(encoder=encoder, restart=True))
    assert summary.resumed_from == 0


def test_a_run_resumes_with_more_steps_or_ends_at_its_checkpoint(training_files, encoder, tmp_path):
    data, styles = training_files
    out = tmp_path / "m.safetensors"
    with pytest.raises(KeyboardInterrupt):
        train_transformer(styles[:1], [data], out, TrainOptions(steps=4, **TINY), RunControl(encoder=encoder, on_step=_interrupt_at(3)))
    summary = train_transformer(styles[:1], [data], out, TrainOptions(steps=2, **TINY), RunControl(encoder=encoder, keep_run=True))
    assert (summary.resumed_from, summary.steps) == (2, 2)
    summary = train_transformer(styles[:1], [data], out, TrainOptions(steps=5, **TINY), RunControl(encoder=encoder))
    assert (summary.resumed_from, summary.steps) == (2, 5)
    assert len(summary_rows(summary.log_path)) == 5


def test_init_starts_from_a_trained_model(training_files, encoder, tmp_path):
    data, styles = training_files
    first = train_transformer(styles[:1], [data], tmp_path / "a.safetensors", TrainOptions(steps=2, **TINY), RunControl(encoder=encoder))
    options = TrainOptions(steps=1, learning_rate=1e-9, init_model=str(first.output), **TINY)
    tuned = train_transformer(styles[:1], [data], tmp_path / "b.safetensors", options, RunControl(encoder=encoder))
    a, _ = read_model(first.output)
    b, info = read_model(tuned.output)
    assert info["training"]["options"]["init_model"] == str(first.output)
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    other_arch = dict(TINY, arch="reconet")
    with pytest.raises(VideostyleError, match="has arch = 'fast'"):
        train_transformer(
            styles[:1], [data], tmp_path / "c.safetensors", TrainOptions(steps=1, init_model=str(first.output), **other_arch), RunControl(encoder=encoder)
        )
    with pytest.raises(VideostyleError, match="model adain_decoder is an AdaIN decoder, not a feed-forward transformer network"):
        train_transformer(
            styles[:1], [data], tmp_path / "d.safetensors", TrainOptions(steps=1, init_model="adain_decoder", **TINY), RunControl(encoder=encoder)
        )


def _interrupt_at(step):
    def callback(report):
        if report.step == step:
            raise KeyboardInterrupt

    return callback


def test_corrupt_and_mismatched_model_files_give_clear_errors(tmp_path):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(VideostyleError, match="not a videostyle model file"):
        load_transformer(corrupt)
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(VideostyleError, match="without videostyle metadata"):
        load_transformer(foreign)
    from videostyle.models import TransformerConfig, TransformerNet

    config = TransformerConfig.for_arch("fast")
    state = TransformerNet(config).state_dict()
    state.pop(next(iter(state)))
    broken = save_model(tmp_path / "broken.safetensors", state, "transformer", config.to_dict())
    with pytest.raises(VideostyleError, match="does not match its architecture: missing weight"):
        load_transformer(broken)
    wrong_shape = TransformerNet(config).state_dict()
    name = next(iter(wrong_shape))
    wrong_shape[name] = torch.zeros(1, *wrong_shape[name].shape)
    mislabelled = save_model(tmp_path / "mislabelled.safetensors", wrong_shape, "transformer", config.to_dict())
    with pytest.raises(VideostyleError, match="has shape"):
        load_transformer(mislabelled)
    other_kind = save_model(tmp_path / "other.safetensors", TransformerNet(config).state_dict(), "decoder", {})
    with pytest.raises(VideostyleError, match=r"its metadata names no known kind \('decoder'"):
        load_transformer(other_kind)
    with pytest.raises(VideostyleError, match="no such model"):
        load_transformer(tmp_path / "missing.safetensors")


def test_model_info_reads_the_metadata_alone_with_the_same_checks(tmp_path):
    """read_model_info gives read_model's metadata, and fails on the same bad files with the same errors."""
    from safetensors.torch import save_file

    from videostyle.models import TransformerConfig, TransformerNet, read_model, read_model_info

    config = TransformerConfig.for_arch("lean")
    model = save_model(tmp_path / "lean.safetensors", TransformerNet(config).state_dict(), "transformer", config.to_dict(), {"training": {"steps": 3}})
    assert read_model_info(model) == read_model(model)[1]
    assert read_model_info(model)["config"]["arch"] == "lean"
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00garbage" * 10)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    for path, message in [(corrupt, "not a videostyle model file"), (foreign, "without videostyle metadata"), (tmp_path / "missing", "no such model file")]:
        with pytest.raises(VideostyleError, match=message):
            read_model_info(path)


def test_training_data_errors(tmp_path):
    with pytest.raises(VideostyleError, match="no such training data"):
        load_sources([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideostyleError, match="no images or videos"):
        load_sources([tmp_path / "empty"])
