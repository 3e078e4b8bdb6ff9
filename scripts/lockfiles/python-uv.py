#!/usr/bin/env python3
"""Turns the uv.lock files that uv writes for a rendered python stack (named demo-svc), one with
db=postgres and one with db=none, into that stack's lock template: usage
python-uv.py POSTGRES_LOCK NONE_LOCK TEMPLATE, e.g.
templates/service/stacks/python-fastapi/uv.lock.tera. Regenerate after changing
partials/python/pyproject.toml.tera: render both db variants of the stack with dozen, run
`uv lock` (uv 0.13.8, the version the generated Makefile installs) in each, then run this.
The project's own entry keeps the position of demo-svc: uv compares lockfiles by content, not
by order, so `uv lock --check` accepts it under any project name."""
import sys

postgres, none, dst = sys.argv[1], sys.argv[2], sys.argv[3]


def templated(path):
    text = open(path).read()
    assert text.count('name = "demo-svc"') == 1, path
    for tok in ('{{', '{%', '{#'):
        assert tok not in text, (path, tok)
    return text.replace('name = "demo-svc"', 'name = "{{ project.slug }}"')


body = ('{% if db == "postgres" -%}\n' + templated(postgres) + '{% else -%}\n' + templated(none)
        + '{% endif -%}\n')
open(dst, 'w').write(body)
