"""deploy/kubernetes: what can be checked without a cluster.

The values file must name only settings of the zero-to-jupyterhub chart. The chart's
schema is not vendored: SCHEMA below lists the settings the values file may use, each
checked by hand against `jupyterhub/values.schema.yaml` of the chart at tag 4.2.0 (the
version deploy/README.md installs), where every level named here has
`additionalProperties: false` unless it is marked FREE (free-form in the schema: traitlets
config, extraConfig snippets, environment variables, services, lifecycle hooks; and
singleuser.extraFiles, whose entries are checked by EXTRA_FILE_KEYS). ngshare's values are checked
the same way against the keys of its chart's values.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
FREE = "free-form in the chart's schema"
IMAGE = {"name": str, "tag": str, "pullPolicy": str, "pullSecrets": list}

SCHEMA = {
    "hub": {
        "config": FREE,  # traitlets config of the hub (additionalProperties: true)
        "services": FREE,  # <name>: {url, apiToken/api_token, admin, command}
        "extraConfig": FREE,  # <name>: python snippet
        "loadRoles": FREE,
        "image": IMAGE,
        "extraEnv": FREE,
        "concurrentSpawnLimit": int,
        "baseUrl": str,
    },
    "singleuser": {
        "image": IMAGE,
        "defaultUrl": str,
        "cmd": FREE,
        "extraEnv": FREE,
        "extraFiles": FREE,  # checked below: <key>: {mountPath, data|stringData|binaryData, mode}
        "storage": {"capacity": str, "type": str, "homeMountPath": str},
        "cpu": {"guarantee": (int, float), "limit": (int, float)},
        "memory": {"guarantee": str, "limit": str},
        "startTimeout": int,
        "profileList": list,
        "lifecycleHooks": {"postStart": FREE, "preStop": FREE},
    },
    "cull": {"enabled": bool, "timeout": int, "every": int, "maxAge": int, "users": bool},
    "proxy": {
        "https": {
            "enabled": bool,
            "type": str,
            "hosts": list,
            "letsencrypt": {"contactEmail": str, "acmeServer": str},
        },
    },
    "ingress": {"enabled": bool, "hosts": list, "tls": list},
}
EXTRA_FILE_KEYS = {"mountPath", "data", "stringData", "binaryData", "mode"}
NGSHARE_SCHEMA = {
    "ngshare": {
        "admins": list,
        "hub_api_url": str,
        "hub_base_url": str,
        "hub_api_token": str,
        "debug": bool,
        "upgrade_db": bool,
        "env": FREE,
        "args": list,
    },
    "deployment": FREE,
    "pvc": FREE,
    "image": FREE,
}
# The distribution (docker) reference grammar: [registry[:port]/]path[:tag][@digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?/)?"
IMAGE_NAME = re.compile(rf"^{_REGISTRY}{_COMPONENT}(?:/{_COMPONENT})*$")
IMAGE_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


def _unknown(values, schema, path=""):
    """Key paths of `values` that `schema` does not allow, and type mismatches."""
    problems = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in schema:
            problems.append(f"{where}: not a setting of the chart")
            continue
        rule = schema[key]
        if rule == FREE:
            continue
        if isinstance(rule, dict):
            if not isinstance(value, dict):
                problems.append(f"{where}: expected a mapping, got {value!r}")
            else:
                problems += _unknown(value, rule, where)
        elif not isinstance(value, rule) or (rule is int and isinstance(value, bool)):
            problems.append(f"{where}: {value!r} is not {rule}")
    return problems


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((DEPLOY / "values.yaml").read_text())


def test_values_name_only_settings_of_the_chart(values):
    assert _unknown(values, SCHEMA) == []
    for key, spec in values["singleuser"].get("extraFiles", {}).items():
        assert set(spec) <= EXTRA_FILE_KEYS and "mountPath" in spec, key
        assert len({"data", "stringData", "binaryData"} & set(spec)) == 1, key


def test_the_schema_check_catches_a_misspelt_setting(values):
    planted = {**values, "singleuser": {**values["singleuser"], "imag": {"name": "x"}}}
    assert _unknown(planted, SCHEMA) == ["singleuser.imag: not a setting of the chart"]


def test_images_are_well_formed_references(values):
    images = [values["singleuser"]["image"]]
    for image in images:
        assert IMAGE_NAME.match(image["name"]), image
        assert IMAGE_TAG.match(str(image["tag"])), image
    (base,) = re.findall(r"^FROM (\S+)$", (DEPLOY / "Dockerfile").read_text(), re.M)
    name, _, tag = base.partition(":")
    assert IMAGE_NAME.match(name) and IMAGE_TAG.match(tag), base
    assert not IMAGE_NAME.match("Registry.example.org/UPPER/case:tag")


def test_ngshare_values_and_the_hub_agree(values):
    ngshare = yaml.safe_load((DEPLOY / "ngshare-values.yaml").read_text())
    assert _unknown(ngshare, NGSHARE_SCHEMA) == []
    service = values["hub"]["services"]["ngshare"]
    assert service["apiToken"] == ngshare["ngshare"]["hub_api_token"]
    nbgrader = values["singleuser"]["extraFiles"]["nbgrader-exchange"]["stringData"]
    assert f"{service['url']}/services/ngshare" in nbgrader
    instructors = set(values["hub"]["config"]["Authenticator"]["admin_users"])
    assert set(ngshare["ngshare"]["admins"]) == instructors


def test_the_hub_starts_the_instructor_in_a_private_course_and_students_set_up(values):
    (snippet,) = values["hub"]["extraConfig"].values()
    c = Config()
    exec(compile(snippet, "extraConfig", "exec"), {"c": c})
    hook = c.KubeSpawner.pre_spawn_hook
    instructor = SimpleNamespace(user=SimpleNamespace(name="instructor"), cmd=None)
    student = SimpleNamespace(user=SimpleNamespace(name="student1"), cmd=None)
    hook(instructor)
    hook(student)
    assert instructor.cmd[:2] == ["sh", "-c"] and "umask 077 && git clone" in instructor.cmd[2]
    assert 'cd "$HOME/nncourse" && exec jupyterhub-singleuser' in instructor.cmd[2]
    assert "nncourse student-setup --level user" in student.cmd[2]
    # The nbgrader config file students get compiles.
    nbgrader = values["singleuser"]["extraFiles"]["nbgrader-exchange"]["stringData"]
    compile(nbgrader, "nbgrader_config.py", "exec")
