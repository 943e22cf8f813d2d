#!/usr/bin/env bash
# Servers for tests/farm: Debian's PostgreSQL (Dagster's instance) and RabbitMQ (the Celery
# broker), started by the tests themselves on free ports as unprivileged users; should the
# packages start their own services, the tests leave them alone. Idempotent: does nothing when
# both are installed.
set -euo pipefail
source "$(dirname "$0")/lib/apt.sh"

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        && [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    exit 0
fi
apt_install postgresql rabbitmq-server
ls /usr/lib/postgresql/*/bin/initdb /usr/lib/rabbitmq/bin/rabbitmq-server
