#!/usr/bin/env bash
# Servers for tests/farm: Debian's PostgreSQL (Dagster's instance) and RabbitMQ (the Celery
# broker), started by the tests themselves on free ports as unprivileged users; nothing is
# started or enabled here. Idempotent: does nothing when both are installed.
set -euo pipefail

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
# Should the packages start their own services, the tests leave them alone.
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    postgresql rabbitmq-server >/dev/null
ls /usr/lib/postgresql/*/bin/initdb /usr/lib/rabbitmq/bin/rabbitmq-server
