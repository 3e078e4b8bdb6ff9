#!/usr/bin/env python3
"""Write go.mod.tera and go.sum.tera of the go-nethttp layer from four `go mod tidy`-ed trees, one per
(db, worker) variant: render each with `dozen new demo-svc --lang go --set db=DB --set worker=W`, run
`go mod tidy` in it (after `go get` of a new or bumped direct dependency), then pass the four.
usage: go-nethttp.py PG_NONE_DIR PG_REDIS_DIR NONE_NONE_DIR NONE_REDIS_DIR"""
import os
import sys

if len(sys.argv) != 5:
    sys.exit(__doc__)
variants = {  # (db, worker) -> tree
    ("postgres", "none"): sys.argv[1],
    ("postgres", "redis"): sys.argv[2],
    ("none", "none"): sys.argv[3],
    ("none", "redis"): sys.argv[4],
}
S = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../templates/service/stacks/go-nethttp/")


def read(d, name):
    return open(os.path.join(d, name)).read()


def require_block(d):
    lines = read(d, "go.mod").split("\n")
    i = next(n for n, l in enumerate(lines) if l.startswith("require"))
    return "\n".join(lines[i:]).rstrip("\n")


def branches(text_of, trim):
    """One Tera if/elif chain over the four variants; trim strips the newline after each tag."""
    dash = "-" if trim else ""
    out = []
    for n, ((db, worker), d) in enumerate(variants.items()):
        keyword = "if" if n == 0 else "elif"
        out.append("{%- " + keyword + f" db == '{db}' and worker == '{worker}' {dash}%}}\n" + text_of(d))
    return "\n".join(out) + "\n{%- endif %}"


note = ("\n{#- Regenerate all four (db, worker) variants together with scripts/lockfiles/go-nethttp.py: the\n"
        "    dependency graphs select different indirect versions. #}\n")
head = read(variants[("postgres", "none")], "go.mod").split("\n")
i = next(n for n, l in enumerate(head) if l.startswith("require"))
head = head[next(n for n, l in enumerate(head) if l.startswith("module")):i]
header = ("// The module path only has to be importable if other modules import this one. To move it under\n"
          "// your repository: go mod edit -module github.com/ORG/{{ project.slug }}, then replace\n"
          "// example.com/{{ project.slug }} in the import paths of the .go files.\n"
          + "\n".join(head).replace("example.com/demo-svc", "example.com/{{ project.slug }}").rstrip("\n"))
open(S + "go.mod.tera", "w").write(header + "\n" + branches(require_block, False).replace("{%- if", "{% if", 1) + note)
open(S + "go.sum.tera", "w").write(branches(lambda d: read(d, "go.sum").rstrip("\n"), True).replace("{%- if", "{% if", 1) + note)
