#!/bin/sh
# Installs moviefaces into a step image (deploy/k8s/Dockerfile): `install.sh cpu` or
# `install.sh gpu`.
# Every version comes from constraints.txt. The webserver and dg are dependencies of the package
# for laptops; a step or code-server pod never runs them, so they go with everything only they
# need (UI_ONLY: tests/deploy/test_images.py checks the list against the dependency tree).
# (`pip check` would name them missing: no pod imports them, as that test checks too.)
set -eu
flavour="$1"
here="$(dirname "$0")"
UI_ONLY="annotated-doc backoff click-aliases dagster-cloud-cli dagster-dg-cli dagster-dg-core
dagster-graphql dagster-rest-resources dagster-webserver gitdb github3-py gitpython gql graphene
graphql-core graphql-relay httpcore httptools httpx jsonschema jsonschema-specifications markdown
pyjwt questionary referencing requests-toolbelt rpds-py shellingham smmap termcolor typer
uritemplate uvloop validators watchfiles websockets yaspin"
pip install -c "$here/constraints.txt" "$here[farm]"
# shellcheck disable=SC2086 # one word per distribution
pip uninstall -y $UI_ONLY
if [ "$flavour" = gpu ]; then
    # onnxruntime-gpu replaces onnxruntime (both are the module `onnxruntime`).
    pip uninstall -y onnxruntime
    pip install -c "$here/constraints.txt" "onnxruntime-gpu[cuda,cudnn]"
fi
