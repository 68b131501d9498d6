package main

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"text/template"
)

//go:embed page.md.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"f0":    func(x float64) string { return fmt.Sprintf("%.0f", x) },
	"f1":    func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"f2":    func(x float64) string { return fmt.Sprintf("%.2f", x) },
	"thou":  thousands,
	"int":   func(x int) string { return thousands(float64(x)) },
	"join":  strings.Join,
	"cpus":  cpuList,
	"yesno": func(b bool) string { return map[bool]string{true: "**met**", false: "not met"}[b] },
	"ms":    func(us float64) string { return fmt.Sprintf("%.2f", us/1000) },
	"db": func(store string, us float64) string {
		if store == "sqlite" {
			return "in server"
		}
		return fmt.Sprintf("%.1f", us)
	},
	"stmts": func(r ScenarioResult) string {
		switch {
		case !r.Counted:
			return "—"
		case r.RoundTrips >= 0:
			return fmt.Sprintf("%.2f (%.2f)", r.Statements, r.RoundTrips)
		}
		return fmt.Sprintf("%.2f", r.Statements)
	},
	"ints": func(xs []int) string {
		s := make([]string, len(xs))
		for i, x := range xs {
			s[i] = thousands(float64(x))
		}
		return strings.Join(s, ", ")
	},
}).Parse(pageText))

// thousands writes x rounded, with thin groups of three digits.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pageData is what the template reads.
type pageData struct {
	*Results
	Goals      []Goal
	Plots      map[string]Plot
	Scenarios  []scenario
	Bare       scenario
	Limits     []scenario
	LimitRows  []limitRow  // the scenarios measured beside a limit, of every store
	BeforeRows []beforeRow // the scenarios measured on the -before binary too, of every store
	Date       string
}

// limitRow is a scenario measured beside its limit, on one store.
type limitRow struct {
	Store string
	ScenarioResult
}

// writePage writes the page to path.
func writePage(path string, res *Results, plots map[string]Plot) error {
	var rows []limitRow
	for _, s := range res.Stores {
		for _, sc := range s.Scenarios {
			if sc.Limit != "" {
				rows = append(rows, limitRow{s.Title, sc})
			}
		}
	}
	var b strings.Builder
	err := page.Execute(&b, pageData{Results: res, Goals: goals(res), Plots: plots, Scenarios: scenarios,
		Bare: bareScenario, Limits: limits, LimitRows: rows, BeforeRows: beforeRows(res), Date: res.Started.Format("2006-01-02 15:04 UTC")})
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
