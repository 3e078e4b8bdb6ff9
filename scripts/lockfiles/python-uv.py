#!/usr/bin/env python3
"""Turns the uv.lock files that uv writes for a rendered python stack (named demo-svc), one per
(db, worker) combination, into that stack's lock template: usage
python-uv.py TEMPLATE POSTGRES_LOCK NONE_LOCK POSTGRES_REDIS_LOCK NONE_REDIS_LOCK, e.g.
python-uv.py templates/service/stacks/python-fastapi/uv.lock.tera pg/uv.lock none/uv.lock
pg-redis/uv.lock none-redis/uv.lock (the first two with worker=none, the last two with
worker=redis). Regenerate after changing partials/python/pyproject.toml.tera: render the four
variants of the stack with dozen (`--set db=... --set worker=...`), run `uv lock` (uv 0.13.8, the
version the generated Makefile installs) in each, then run this.
The project's own entry keeps the position of demo-svc: uv compares lockfiles by content, not
by order, so `uv lock --check` accepts it under any project name."""
import sys

dst, postgres, none, postgres_redis, none_redis = sys.argv[1:6]


def templated(path):
    text = open(path).read()
    assert text.count('name = "demo-svc"') == 1, path
    for tok in ('{{', '{%', '{#'):
        assert tok not in text, (path, tok)
    return text.replace('name = "demo-svc"', 'name = "{{ project.slug }}"')


def by_db(postgres_lock, none_lock):
    return ('{% if db == "postgres" -%}\n' + templated(postgres_lock) + '{% else -%}\n'
            + templated(none_lock) + '{% endif -%}\n')


body = ('{% if worker == "redis" -%}\n' + by_db(postgres_redis, none_redis) + '{% else -%}\n'
        + by_db(postgres, none) + '{% endif -%}\n')
open(dst, 'w').write(body)
