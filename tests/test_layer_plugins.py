"""Layers are plug-ins: a layer is a construct registered in modules/layers.py plus a builder
per cloud; the stack composes enabled layers in dependency order, and a cloud without the
layer gives one error naming the setting. A new layer touches no other layer and no adapter
base class: this test adds one without editing any project file."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from adapters.aws import AwsAdapter
from adapters.base import Refs
from core.errors import UserError
from core.props import LayerProps
from core.spec import Data
from modules.base import PlatformModule
from modules.layers import LAYERS, Layer, ordered, registered
from stacks.app import load_environment
from tests.conftest import BASE
from tests.test_synth_aws import synth
from tests.test_synth_gcp import GCP_IDS


@dataclass(frozen=True)
class ToyProps(LayerProps):
    data: Data  # the spec sections a layer reads are its props' fields


class Toy(PlatformModule):
    """A hypothetical fourth-coming layer (say, a feature store) that needs the data lake."""

    layer_name = "toy"
    layer_setting = "toy"


def toy_on_aws(adapter, scope, props: ToyProps, data: Refs, serving: Refs | None) -> Refs:
    assert props.data.buckets[0] == "raw" and props.site.name == "dev"
    return Refs(outputs={"toy_source": data.outputs["bucket_raw"]})


@pytest.fixture
def toy_layer(monkeypatch):
    monkeypatch.setitem(LAYERS, "toy", Layer("toy", Toy, ToyProps, "toy", needs=("data",),
                                             uses=("serving",)))
    monkeypatch.setattr(AwsAdapter, "builders", {**AwsAdapter.builders, "toy": toy_on_aws})


def test_every_existing_layer_is_registered_in_dependency_order(write_env):
    env = load_environment(write_env(BASE))
    names = [layer.name for layer in ordered(env, registered())]
    assert set(names) == {"key", "network", "data", "registry", "identity", "compute",
                          "training", "serving", "monitoring", "budget"}
    for layer in registered().values():
        for need in (*layer.needs, *layer.uses):
            if layer.name in names and need in names:
                assert names.index(need) < names.index(layer.name), (need, layer.name)


def test_disabled_layers_are_left_out_and_their_users_get_none(write_env):
    env = load_environment(write_env(BASE + "serving:\n  enabled: false\n"
                                     "compute:\n  enabled: false\n"))
    names = [layer.name for layer in ordered(env, registered())]
    assert "serving" not in names and "compute" not in names and "monitoring" in names
    assert "endpoint_name" not in synth(env)["output"]


def test_a_new_layer_plugs_in_with_its_own_builder(toy_layer, write_env):
    doc = synth(load_environment(write_env(BASE)))
    assert doc["output"]["toy_source"]["value"] == \
        "${aws_s3_bucket.data_bucket-raw_91588B8E.bucket}"
    names = [layer.name for layer in ordered(load_environment(write_env(BASE)), registered())]
    assert names.index("toy") > names.index("serving")  # `uses` orders it after serving


def test_a_cloud_without_the_layer_names_the_setting(toy_layer, write_env):
    env = load_environment(write_env("name: dev\ncloud: gcp\nregion: us-central1\n" + GCP_IDS))
    with pytest.raises(UserError, match=r"dev.yaml:\d+: toy: the toy layer is not available "
                                        r"on gcp"):
        synth(env)


def test_a_layer_needing_a_disabled_one_is_refused(monkeypatch, write_env):
    monkeypatch.setitem(LAYERS, "toy", Layer("toy", Toy, ToyProps, "toy", needs=("serving",)))
    env = load_environment(write_env(BASE + "serving:\n  enabled: false\n"))
    with pytest.raises(UserError, match="toy: the toy layer needs serving, which is off"):
        ordered(env, registered())


def test_builders_take_typed_props_and_refs_never_the_environment():
    """Issue 10: a layer builder gets its layer's props (the Site plus the sections it reads)
    and the typed Refs of the layers it needs, never the whole Environment."""
    import inspect
    import typing

    from adapters import get_adapter
    from adapters.base import Refs as BaseRefs
    from core.props import LayerProps

    for cloud in ("aws", "gcp", "azure"):
        adapter = type(get_adapter(cloud, source="test"))
        for name, builder in adapter.builders.items():
            hints = typing.get_type_hints(builder)
            params = list(inspect.signature(builder).parameters)
            props = hints[params[2]]
            assert issubclass(props, LayerProps), (cloud, name, props)
            assert props is registered()[name].props, (cloud, name)
            for ref in params[3:]:
                hint = hints[ref]
                classes = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
                assert all(issubclass(c, BaseRefs) for c in classes), (cloud, name, ref, hint)
