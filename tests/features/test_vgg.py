import numpy as np
import pytest
import torch

from videostyle.errors import VideostyleError
from videostyle.features import VGGEncoder, layer_names, load_encoder, load_state_dict_file
from videostyle.features import weights as weights_module
from videostyle.features.weights import VGG_CONFIGS, conv_indices


def onnx_reference_activations(image_bgr_nhwc: np.ndarray, node_outputs: list[str]) -> list[np.ndarray]:
    """Run the original ONNX graph in onnxruntime with extra graph outputs at intermediate nodes."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model = onnx.load(str(weights_module.onnx_weights_path()))
    for name in node_outputs:
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(node_outputs, {session.get_inputs()[0].name: image_bgr_nhwc})


def test_activations_match_onnxruntime_on_the_original_graph(encoder):
    # The graph's input is fixed at 240 x 240, NHWC, already Caffe-preprocessed (BGR 0-255 minus mean).
    generator = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 240, 240, generator=generator)
    caffe = encoder.preprocess(image).permute(0, 2, 3, 1).contiguous().numpy()
    nodes = ["functional_1/block2_conv2_1/Relu:0", "functional_1/block4_conv3_1/Relu:0"]
    reference = onnx_reference_activations(caffe, nodes)
    ours = encoder(image, ["relu2_2", "relu4_3"])
    for name, expected in zip(["relu2_2", "relu4_3"], reference):
        expected = torch.from_numpy(expected)
        if expected.shape[1] != ours[name].shape[1]:  # NHWC output: bring to NCHW
            expected = expected.permute(0, 3, 1, 2)
        scale = expected.abs().max()
        torch.testing.assert_close(ours[name] / scale, expected / scale, atol=1e-5, rtol=0)


def test_caffe_preprocessing_is_bgr_0_255_minus_mean(encoder):
    image = torch.zeros(1, 3, 1, 1)
    image[0, 0] = 1.0  # pure red
    out = encoder.preprocess(image).flatten().tolist()
    assert out == pytest.approx([-103.939, -116.779, 255 - 123.68], abs=1e-4)


def test_encoder_is_frozen_but_passes_gradient_to_the_input(encoder):
    assert not any(parameter.requires_grad for parameter in encoder.parameters())
    encoder.train()
    assert not encoder.training
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    encoder(image, ["relu3_1"])["relu3_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_encoder_runs_only_as_deep_as_the_deepest_requested_layer(encoder, monkeypatch):
    calls = []
    hooks = [module.register_forward_hook(lambda m, i, o, k=k: calls.append(k)) for k, module in enumerate(encoder.features)]
    try:
        out = encoder(torch.rand(1, 3, 32, 32), ["relu2_1", "relu1_1"])
    finally:
        for hook in hooks:
            hook.remove()
    assert set(out) == {"relu1_1", "relu2_1"}
    assert max(calls) == encoder.names.index("relu2_1")
    assert out["relu2_1"].shape == (1, 128, 16, 16)


def test_unknown_layer_names_are_reported(encoder):
    with pytest.raises(VideostyleError, match="unknown layer 'relu6_1'"):
        encoder(torch.rand(1, 3, 16, 16), ["relu6_1"])


def test_conversion_is_cached_atomically_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDEOSTYLE_CACHE", str(tmp_path))
    state = weights_module.cached_vgg16_state()
    cache_file = tmp_path / weights_module.CACHE_FILE_NAME
    assert cache_file.is_file()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]
    monkeypatch.setattr(weights_module, "read_vgg16_from_onnx", lambda *a, **k: pytest.fail("cache not used"))
    again = weights_module.cached_vgg16_state()
    assert set(again) == set(state)
    torch.testing.assert_close(again["features.0.weight"], state["features.0.weight"])


def test_a_wrong_checksum_is_refused(tmp_path):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"not the weights")
    with pytest.raises(VideostyleError, match="sha256"):
        weights_module.read_vgg16_from_onnx(fake)


def _random_torchvision_state(arch: str) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    state, in_channels = {}, 3
    channels = [c for c in VGG_CONFIGS[arch] if c != "M"]
    for index, out_channels in zip(conv_indices(arch), channels):
        state[f"features.{index}.weight"] = torch.randn(out_channels, in_channels, 3, 3, generator=generator) * 0.05
        state[f"features.{index}.bias"] = torch.randn(out_channels, generator=generator) * 0.01
        in_channels = out_channels
    state["classifier.0.weight"] = torch.zeros(4, 4)  # ignored
    return state


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_user_supplied_vgg19_state_dict_loads_with_torchvision_layout(tmp_path, suffix):
    state = _random_torchvision_state("vgg19")
    path = tmp_path / f"vgg19{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file

        save_file(state, str(path))
    encoder = load_encoder(weights=str(path), arch="vgg19")
    assert encoder.input_convention == "torch"
    assert "relu5_4" in encoder.names and "relu3_4" in encoder.names
    torch.testing.assert_close(encoder.features[34].weight, state["features.34.weight"])
    out = encoder(torch.rand(1, 3, 32, 32), ["relu5_4"])
    assert out["relu5_4"].shape == (1, 512, 2, 2)


def test_vgg16_weights_given_as_vgg19_are_refused(tmp_path):
    path = tmp_path / "vgg16.pth"
    torch.save(_random_torchvision_state("vgg16"), path)
    with pytest.raises(VideostyleError, match="vgg19 weights"):
        load_encoder(weights=str(path), arch="vgg19")


def test_a_file_without_vgg_weights_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"linear.weight": torch.zeros(2, 2)}, path)
    with pytest.raises(VideostyleError, match="no VGG convolution weights"):
        load_state_dict_file(path)


def test_layer_names_follow_torchvision_indices():
    names = layer_names("vgg16")
    # FACTS.md: relu1_1=1, relu1_2=3, relu2_1=6, relu2_2=8, relu3_1=11, relu3_3=15, relu4_1=18, relu4_2=20, relu4_3=22, relu5_1=25
    for name, index in {
        "relu1_1": 1,
        "relu1_2": 3,
        "relu2_1": 6,
        "relu2_2": 8,
        "relu3_1": 11,
        "relu3_3": 15,
        "relu4_1": 18,
        "relu4_2": 20,
        "relu4_3": 22,
        "relu5_1": 25,
    }.items():
        assert names[index] == name


def test_average_pooling_variant(encoder):
    avg = VGGEncoder(weights_module.cached_vgg16_state(), pooling="avg")
    image = torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(avg(image, ["relu1_1"])["relu1_1"], encoder(image, ["relu1_1"])["relu1_1"])
    assert not torch.allclose(avg(image, ["relu2_1"])["relu2_1"], encoder(image, ["relu2_1"])["relu2_1"])
