import pytest
import torch

from videostyle.errors import VideostyleError
from videostyle.models import ConditionalInstanceNorm2d, TransformerConfig, TransformerNet


@pytest.mark.parametrize("arch", ["johnson", "fast", "lean", "realtime"])
@pytest.mark.parametrize("size", [(32, 32), (30, 45), (7, 9)])
def test_shapes_and_range(arch, size):
    net = TransformerNet(TransformerConfig.for_arch(arch)).eval()
    images = torch.rand(2, 3, *size)
    with torch.no_grad():
        out = net(images)
    assert out.shape == images.shape
    assert out.min() >= 0 and out.max() <= 1


def test_conditional_norm_one_hot_equals_that_styles_instance_norm():
    norm = ConditionalInstanceNorm2d(5, num_styles=3)
    with torch.no_grad():
        norm.weight.normal_()
        norm.bias.normal_()
    x = torch.randn(2, 5, 8, 8)
    single = torch.nn.InstanceNorm2d(5, affine=True)
    with torch.no_grad():
        single.weight.copy_(norm.weight[1])
        single.bias.copy_(norm.bias[1])
    one_hot = torch.tensor([[0.0, 1.0, 0.0]] * 2)
    torch.testing.assert_close(norm(x, one_hot), single(x))


def test_interpolation_endpoints_equal_single_styles_and_middle_differs():
    torch.manual_seed(0)
    net = TransformerNet(TransformerConfig.for_arch("fast", num_styles=3)).eval()
    for module in net.modules():
        if isinstance(module, ConditionalInstanceNorm2d):
            with torch.no_grad():
                module.weight.normal_(1, 0.5)
                module.bias.normal_(0, 0.5)
    images = torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        first = net(images, torch.tensor([1.0, 0.0, 0.0]))
        second = net(images, torch.tensor([0.0, 1.0, 0.0]))
        endpoint = net(images, torch.tensor([[1.0, 0.0, 0.0]]))
        middle = net(images, torch.tensor([0.5, 0.5, 0.0]))
    torch.testing.assert_close(endpoint, first)
    assert (first - second).abs().mean() > 1e-3
    assert (middle - first).abs().mean() > 1e-4 and (middle - second).abs().mean() > 1e-4


def test_multi_style_network_needs_weights_of_the_right_shape():
    net = TransformerNet(TransformerConfig.for_arch("fast", num_styles=2))
    with pytest.raises(VideostyleError, match="give style weights"):
        net(torch.rand(1, 3, 16, 16))
    with pytest.raises(VideostyleError, match="style weights of shape"):
        net(torch.rand(1, 3, 16, 16), torch.tensor([1.0, 0.0, 0.0]))


def test_config_round_trip_and_unknown_arch():
    config = TransformerConfig.for_arch("johnson", num_styles=3, style_names=["a", "b", "c"])
    assert TransformerConfig.from_dict(config.to_dict()) == config
    with pytest.raises(VideostyleError, match="unknown network architecture"):
        TransformerConfig.for_arch("resnet")
    with pytest.raises(VideostyleError, match="unknown network settings"):
        TransformerConfig.from_dict({**config.to_dict(), "wings": 2})


def test_the_normalisation_kind_is_explicit():
    from videostyle.models.transformer import NormKind

    assert TransformerConfig.for_arch("fast").norm_kind is NormKind.INSTANCE
    assert TransformerConfig.for_arch("fast", num_styles=3).norm_kind is NormKind.CONDITIONAL
    assert TransformerConfig.for_arch("fast", adaptive=True).norm_kind is NormKind.ADAPTIVE
    adaptive = TransformerNet(TransformerConfig.for_arch("fast", adaptive=True))
    assert not any(name.endswith(".norm.weight") for name, _ in adaptive.named_parameters())  # nothing learned in the norms


@pytest.mark.parametrize("padding", ["reflect", "zero"])
def test_the_sub_pixel_upsampling_is_the_nearest_upsampling_then_convolution_it_replaces(padding):
    """The upsampling layers run their 3x3 convolution before the 2x upsampling (``subpixel_kernel``); the
    picture must be the one of upsampling, padding and convolving at the larger size, borders included."""
    import torch.nn.functional as F

    from videostyle.models.transformer import _Conv

    torch.manual_seed(0)
    layer = _Conv(6, 5, 3, upsample=2, padding=padding)
    x = torch.randn(2, 6, 7, 9)
    upsampled = F.interpolate(x, scale_factor=2, mode="nearest")
    expected = layer.conv(layer.pad(upsampled))
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=0)
    with torch.no_grad():  # the rewrite is linear in the weights: a changed weight changes the picture as it should
        layer.conv.weight[0, 0, 0, 2] += 1
    assert (layer(x) - expected).abs().max() > 0.1
    torch.testing.assert_close(layer(x), layer.conv(layer.pad(upsampled)), atol=1e-5, rtol=0)


def test_the_realtime_network_has_stride_8_and_keeps_any_size():
    config = TransformerConfig.for_arch("realtime")
    assert (config.padding, config.input_stride) == ("zero", 2)
    net = TransformerNet(config).eval()
    assert net.stride == 8 and TransformerNet(TransformerConfig.for_arch("fast")).stride == 4
    assert not any(isinstance(module, torch.nn.ReflectionPad2d) for module in net.modules())
    with torch.no_grad():
        out = net(torch.rand(1, 3, 37, 50))
    assert out.shape == (1, 3, 37, 50)
    assert TransformerConfig.from_dict(config.to_dict()) == config


def test_files_written_before_padding_and_input_stride_existed_read_as_before():
    from videostyle.models import read_config

    data = TransformerConfig.for_arch("fast").to_dict()
    del data["padding"], data["input_stride"]
    config = read_config({"config": data}, "transformer", "old.safetensors")
    assert (config.padding, config.input_stride) == ("reflect", 1)


@pytest.mark.parametrize("setting", [{"padding": "circular"}, {"input_stride": 3}])
def test_a_config_with_an_unknown_padding_or_input_stride_cannot_build_a_network(setting):
    config = TransformerConfig.from_dict({**TransformerConfig.for_arch("fast").to_dict(), **setting})
    with pytest.raises(ValueError, match=next(iter(setting))):
        TransformerNet(config)
