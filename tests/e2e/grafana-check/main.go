// Command grafana-check validates Grafana dashboard JSON files against the dashboard schema, as
// the Grafana Foundation SDK generates it from Grafana's own schemas: the dashboard, its panels,
// each panel type's options and each Prometheus query are decoded strictly (a missing required
// field, a wrong type or an unknown field is an error). A panel type or a query datasource the SDK
// has no schema for is an error too, so nothing is let through undecoded.
//
// Usage: grafana-check FILE...   Prints "FILE: problem" lines; exits 1 if any file has one.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

type rawPanel struct {
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *rawDatasource  `json:"datasource"`
	Targets    []rawTarget     `json:"targets"`
	Panels     []rawPanel      `json:"panels"`
	Options    json.RawMessage `json:"options"`
}

type rawDatasource struct {
	Type string `json:"type"`
}

type rawTarget struct {
	Datasource *rawDatasource `json:"datasource"`
	Expr       string         `json:"expr"`
}

func check(path string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	var board dashboard.Dashboard
	// The SDK returns its error list typed, so an empty list is a non-nil error: no problem.
	if err := board.UnmarshalJSONStrict(raw); err != nil {
		if list, ok := err.(cog.BuildErrors); !ok || len(list) > 0 {
			problems = append(problems, fmt.Sprintf("does not match the dashboard schema: %v", err))
		}
	}
	var loose struct {
		Panels []rawPanel `json:"panels"`
	}
	if err := json.Unmarshal(raw, &loose); err != nil {
		return append(problems, err.Error())
	}
	var walk func(panels []rawPanel)
	walk = func(panels []rawPanel) {
		for _, panel := range panels {
			name := fmt.Sprintf("panel %q", panel.Title)
			if panel.Type == "row" {
				walk(panel.Panels)
				continue
			}
			if _, known := cog.ConfigForPanelcfgVariant(panel.Type); !known {
				problems = append(problems, fmt.Sprintf("%s: panel type %q has no schema", name, panel.Type))
			}
			if len(panel.Options) == 0 {
				problems = append(problems, fmt.Sprintf("%s: no options, so they are not checked", name))
			}
			if len(panel.Targets) == 0 {
				problems = append(problems, fmt.Sprintf("%s: no query", name))
			}
			for i, target := range panel.Targets {
				ds := panel.Datasource
				if target.Datasource != nil {
					ds = target.Datasource
				}
				if ds == nil || ds.Type != "prometheus" {
					problems = append(problems, fmt.Sprintf("%s: targets[%d] is not a Prometheus query, so it is not checked", name, i))
				}
				if target.Expr == "" {
					problems = append(problems, fmt.Sprintf("%s: targets[%d] has no expr", name, i))
				}
			}
		}
	}
	walk(loose.Panels)
	return problems
}

func main() {
	plugins.RegisterDefaultPlugins()
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: grafana-check FILE...")
		os.Exit(2)
	}
	bad := false
	for _, path := range os.Args[1:] {
		for _, problem := range check(path) {
			bad = true
			fmt.Printf("%s: %s\n", path, problem)
		}
	}
	if bad {
		os.Exit(1)
	}
}
