#!/usr/bin/env python3
"""Write go.mod.tera and go.sum.tera of the go-nethttp layer from two `go mod tidy`-ed trees.
usage: gen-gomod.py PG_DIR NONE_DIR"""
import sys
pg, none = sys.argv[1], sys.argv[2]
import os
S = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../templates/service/stacks/go-nethttp/")
def body(d):
    lines = open(d + "/go.mod").read().split("\n")
    i = next(n for n, l in enumerate(lines) if l.startswith("require"))
    return "\n".join(lines[i:]).rstrip("\n")
head = open(pg + "/go.mod").read().split("\n")
i = next(n for n, l in enumerate(head) if l.startswith("require"))
header = ("// The module path only has to be importable if other modules import this one. To move it under\n"
          "// your repository: go mod edit -module github.com/ORG/{{ project.slug }}, then replace\n"
          "// example.com/{{ project.slug }} in the import paths of the .go files.\n") + "\n".join(head[:i]).replace("example.com/demo-svc", "example.com/{{ project.slug }}").rstrip("\n")
note = ("\n{#- Regenerate both variants together: render db=postgres and db=none, run `go mod tidy` in each,\n"
        "    and copy the results in (the two dependency graphs select different indirect versions). #}\n")
open(S + "go.mod.tera", "w").write(header + "\n{% if db == 'postgres' %}\n" + body(pg) + "\n{%- else %}\n" + body(none) + "\n{%- endif %}" + note)
sp = open(pg + "/go.sum").read().rstrip("\n"); sn = open(none + "/go.sum").read().rstrip("\n")
open(S + "go.sum.tera", "w").write("{% if db == 'postgres' -%}\n" + sp + "\n{%- else -%}\n" + sn + "\n{%- endif %}" + note)
