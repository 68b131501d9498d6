package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Plot is one figure the page shows.
type Plot struct {
	File  string // under performance/
	Title string
}

const plotW, plotH = 17 * vg.Centimeter, 10 * vg.Centimeter

// writePlots draws every figure of res into dir as SVG.
func writePlots(dir string, res *Results) (map[string]Plot, error) {
	out := map[string]Plot{}
	save := func(key string, p *plot.Plot, file string) error {
		if err := p.Save(plotW, plotH, filepath.Join(dir, file)); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		out[key] = Plot{File: file, Title: p.Title.Text}
		return nil
	}
	p, err := ratioPlot(res)
	if err != nil {
		return nil, err
	}
	if err := save("ratio", p, "throughput-ratio.svg"); err != nil {
		return nil, err
	}
	for _, s := range res.Stores {
		if p, err = latencyPlot(s); err != nil {
			return nil, err
		}
		if err := save("latency-"+s.Store, p, "latency-"+s.Store+".svg"); err != nil {
			return nil, err
		}
		if p, err = growthPlot(s.Title+": server + database CPU per request against concurrency", "concurrent clients", s.Concurrency); err != nil {
			return nil, err
		}
		if err := save("concurrency-"+s.Store, p, "concurrency-"+s.Store+".svg"); err != nil {
			return nil, err
		}
		if p, err = growthPlot(fmt.Sprintf("%s: server + database CPU per request against data size (%d clients)", s.Title, res.Plan.SizeWorkers),
			"users and sessions in the database", s.DataSize); err != nil {
			return nil, err
		}
		if err := save("datasize-"+s.Store, p, "datasize-"+s.Store+".svg"); err != nil {
			return nil, err
		}
	}
	if p, err = revocationPlot(res); err != nil {
		return nil, err
	}
	if err := save("revocation", p, "revocation.svg"); err != nil {
		return nil, err
	}
	return out, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// logY puts the Y axis on a log scale, its range padded to whole decades'
// halves so that lines near an edge stay visible.
func logY(p *plot.Plot) {
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Y.Min = math.Pow(10, math.Floor(math.Log10(math.Max(p.Y.Min, 1e-9))))
	p.Y.Max = math.Pow(10, math.Ceil(math.Log10(math.Max(p.Y.Max, 1e-9))))
	if p.Y.Max <= p.Y.Min { // no data, or one decade's worth
		p.Y.Min, p.Y.Max = p.Y.Min/10, p.Y.Max*10
	}
}

// shortName is a scenario's label on an axis.
var shortName = map[string]string{
	"token.obtain": "obtain", "token.renew": "renew", "user.me (JWT)": "me JWT", "user.me (PAT)": "me PAT",
	"auth.verify": "verify", "user.login": "login", "user.register": "register", "bare": "bare",
}

// ratioPlot is each scenario's throughput over the bare handler's, per
// store, with the goals as lines.
func ratioPlot(res *Results) (*plot.Plot, error) {
	p := newPlot("Throughput as a fraction of the bare handler's (median of paired rounds)", "", "× bare throughput")
	var names []string
	for _, sc := range scenarios {
		names = append(names, shortName[sc.Name])
	}
	n := float64(len(res.Stores))
	for i, s := range res.Stores {
		var xys plotter.XYs
		for j, sc := range s.Scenarios {
			if sc.ThroughputRatio > 0 {
				xys = append(xys, plotter.XY{X: float64(j) + (float64(i)-(n-1)/2)*0.18, Y: sc.ThroughputRatio})
			}
		}
		sp, err := plotter.NewScatter(xys)
		if err != nil {
			return nil, err
		}
		sp.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(i), Shape: plotutil.Shape(i), Radius: vg.Points(3.5)}
		p.Add(sp)
		p.Legend.Add(s.Title, sp)
	}
	for i, g := range []struct {
		y    float64
		name string
	}{{1, "bare"}, {0.85, "goal: auth.verify 0.85×"}, {0.70, "goal: user.me 0.70×"}} {
		f := plotter.NewFunction(func(float64) float64 { return g.y })
		f.Color = color.Gray{Y: uint8(60 + 60*i)}
		f.Dashes = plotutil.Dashes(i + 1)
		p.Add(f)
		p.Legend.Add(g.name, f)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	// Noise can put a ratio above 1: keep every point in view.
	p.Y.Min, p.Y.Max = 1e-3, 1.5
	for _, s := range res.Stores {
		for _, sc := range s.Scenarios {
			p.Y.Max = math.Max(p.Y.Max, 1.2*sc.ThroughputRatio)
		}
	}
	p.Y.Scale, p.Y.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = false, true
	return p, nil
}

// latencyPlot is the distribution of each scenario's latency on one store
// (and the bare handler's, from the rounds beside token.obtain).
func latencyPlot(s StoreResult) (*plot.Plot, error) {
	p := newPlot(s.Title+": latency distribution", "latency, ms (log scale)", "fraction answered within")
	type series struct {
		name string
		qs   []float64
	}
	var all []series
	if len(s.Scenarios) > 0 && len(s.Scenarios[0].BareDistribution) > 0 {
		all = append(all, series{"bare", s.Scenarios[0].BareDistribution})
	}
	for _, sc := range s.Scenarios {
		all = append(all, series{sc.Name, sc.Distribution})
	}
	for i, sr := range all {
		var xys plotter.XYs
		for j, q := range sr.qs {
			if q > 0 && j < len(cdfProbs) {
				xys = append(xys, plotter.XY{X: q / 1000, Y: cdfProbs[j]})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Dashes, l.Width = plotutil.Color(i), plotutil.Dashes(i), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(sr.name, l)
	}
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	// Room on the right for the legend, clear of the lines.
	p.X.Max *= 40
	p.Legend.Top, p.Legend.Left = false, false
	return p, nil
}

// growthPlot is CPU per request (server and database) of each scenario
// against pts' X, both on log scales.
func growthPlot(title, xlabel string, pts []GrowthPoint) (*plot.Plot, error) {
	p := newPlot(title, xlabel+" (log scale)", "CPU µs per request (log)")
	var order []string
	by := map[string]plotter.XYs{}
	var ticks []plot.Tick
	seen := map[int]bool{}
	for _, pt := range pts {
		if _, ok := by[pt.Scenario]; !ok {
			order = append(order, pt.Scenario)
		}
		if c := pt.Median.TotalCPU(); c > 0 {
			by[pt.Scenario] = append(by[pt.Scenario], plotter.XY{X: float64(pt.X), Y: c})
		}
		if !seen[pt.X] {
			seen[pt.X] = true
			ticks = append(ticks, plot.Tick{Value: float64(pt.X), Label: strconv.Itoa(pt.X)})
		}
	}
	for i, name := range order {
		if len(by[name]) == 0 {
			continue
		}
		l, s, err := plotter.NewLinePoints(by[name])
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = plotutil.Color(i), vg.Points(1.5)
		s.GlyphStyle = draw.GlyphStyle{Color: plotutil.Color(i), Shape: plotutil.Shape(i), Radius: vg.Points(3)}
		p.Add(l, s)
		p.Legend.Add(name, l, s)
	}
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.ConstantTicks(ticks)
	if len(ticks) > 0 {
		p.X.Min, p.X.Max = ticks[0].Value/1.3, ticks[len(ticks)-1].Value*1.3
	} else {
		p.Title.Text += " (no data: the step failed)"
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 1, 10, 1, 10
	}
	logY(p)
	// A decade of room at the bottom for the legend, below every line.
	p.Y.Min /= 10
	p.Legend.Top, p.Legend.Left = false, false
	return p, nil
}

// revocationPlot is the distribution of revocation propagation times,
// per store.
func revocationPlot(res *Results) (*plot.Plot, error) {
	p := newPlot("Logoff on one process until a second one refuses the token", "ms after the logoff's answer", "fraction of trials refused by then")
	for i, s := range res.Stores {
		t := sortedCopy(s.Revocation.Trials)
		if len(t) == 0 {
			continue
		}
		xys := plotter.XYs{{X: 0, Y: 0}}
		for j, x := range t {
			// Steps: the fraction rises at each trial's time.
			xys = append(xys, plotter.XY{X: x, Y: float64(j) / float64(len(t))}, plotter.XY{X: x, Y: float64(j+1) / float64(len(t))})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Dashes, l.Width = plotutil.Color(i), plotutil.Dashes(i), vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s (%d trials)", s.Title, len(t)), l)
	}
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1
	p.Legend.Top, p.Legend.Left = false, false
	return p, nil
}
