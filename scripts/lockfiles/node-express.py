#!/usr/bin/env python3
"""Turns a package-lock.json written by npm for the rendered node/express stack (named demo-svc)
into the pack's lock template: usage node-express.py LOCK TEMPLATE. Regenerate all four (db, worker)
variants after changing package.json.tera: render each (`dozen new demo-svc --lang node --set db=DB
--set worker=W`), `npm install --package-lock-only --ignore-scripts` in it, then run this with
templates/service/stacks/node-express/{% if db == 'DB' and worker == 'W' %}package-lock.json{% endif %}.tera."""
import sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src).read().split('\n')
assert lines[1] == '  "name": "demo-svc",' and lines[7] == '      "name": "demo-svc",' and lines[9] == '      "license": "MIT",', lines[:10]
lines[1] = '  "name": "{{ project.slug }}",'
lines[7] = '      "name": "{{ project.slug }}",'
lines[9] = '      "license": "{% if license == "none" %}UNLICENSED{% else %}{{ license }}{% endif %}",'
body = '\n'.join(lines)
for tok in ('{{', '{%', '{#'):
    assert body.count(tok) == {'{{': 3, '{%': 3, '{#': 0}[tok], tok
open(dst, 'w').write(body)
