package review

// htmlSource is the HTML report's template (html/template: every value is
// escaped for where it appears).
const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="zgov {{.H.Version}}">
<title>Access review evidence: {{.H.Info.Name}} ({{.H.Info.ID}})</title>
<style>
:root {
  --ink: #1c2530; --muted: #5d6b7a; --line: #d9e0e8; --soft: #f3f6f9; --brand: #1f3a5f; --brand2: #2f5d8f;
  --ok: #1e7a46; --ok-bg: #e3f4ea; --bad: #b3261e; --bad-bg: #fbe7e5; --warn: #8a5a00; --warn-bg: #fff3d6;
  --idle: #5d6b7a; --idle-bg: #eceff3;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #e9edf2; color: var(--ink);
  font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 12px; }
.doc { max-width: 1200px; margin: 24px auto; background: #fff; box-shadow: 0 1px 3px rgba(16, 24, 40, .12), 0 8px 24px rgba(16, 24, 40, .06); }
.band { background: var(--brand); color: #fff; padding: 28px 40px 24px; }
.band .kicker { text-transform: uppercase; letter-spacing: .12em; font-size: 11px; opacity: .8; }
.band h1 { margin: 4px 0 8px; font-size: 28px; line-height: 1.2; font-weight: 600; overflow-wrap: anywhere; }
.band .meta { font-size: 13px; opacity: .92; }
.band .meta code { color: #fff; background: rgba(255, 255, 255, .14); padding: 1px 6px; border-radius: 4px; }
.band .sep { margin: 0 8px; opacity: .5; }
nav.toc { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 10px 40px; border-bottom: 1px solid var(--line); background: var(--soft); font-size: 13px; }
nav.toc a { color: var(--brand2); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
main { padding: 8px 40px 32px; }
main a { color: var(--brand2); }
section { margin-top: 28px; }
h2 { font-size: 19px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--brand); color: var(--brand); font-weight: 600; }
h3 { font-size: 15px; margin: 20px 0 8px; color: var(--ink); font-weight: 600; }
p { margin: 6px 0 10px; }
.note { color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 10px; margin: 4px 0 14px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; background: #fff; border-top: 4px solid var(--idle); }
.card .n { font-size: 26px; font-weight: 650; line-height: 1.15; font-variant-numeric: tabular-nums; }
.card .l { font-size: 12px; color: var(--muted); }
.card.ok { border-top-color: var(--ok); } .card.bad { border-top-color: var(--bad); } .card.warn { border-top-color: #d99a00; } .card.brand { border-top-color: var(--brand2); }
.bar { display: flex; height: 14px; border-radius: 7px; overflow: hidden; background: var(--idle-bg); margin: 6px 0 4px; }
.bar span { display: block; height: 100%; }
.bar .certified { background: var(--ok); } .bar .revoked { background: var(--bad); } .bar .undecided { background: #b8c2cc; }
.legend { font-size: 12px; color: var(--muted); margin-bottom: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 12px; vertical-align: -1px; }
.legend i:first-child { margin-left: 0; }
.callout { border-radius: 8px; padding: 12px 16px; margin: 12px 0; border: 1px solid; }
.callout h3 { margin: 0 0 6px; font-size: 14px; }
.callout ul { margin: 0; padding-left: 20px; }
.callout.warn { background: var(--warn-bg); border-color: #f0d48a; color: #5c3d00; }
.callout.ok { background: var(--ok-bg); border-color: #a9dcbd; color: #14502e; }
.callout.bad { background: var(--bad-bg); border-color: #f0b8b3; color: #7a1a14; }
dl.facts { display: grid; grid-template-columns: minmax(180px, 240px) 1fr; gap: 0; margin: 8px 0 12px; border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
dl.facts dt, dl.facts dd { margin: 0; padding: 7px 12px; border-bottom: 1px solid var(--line); }
dl.facts dt { background: var(--soft); color: var(--muted); font-size: 13px; }
dl.facts dd { overflow-wrap: anywhere; }
dl.facts dt:nth-last-of-type(1), dl.facts dd:last-of-type { border-bottom: 0; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
thead th { background: var(--soft); color: #324152; text-align: left; font-weight: 600; font-size: 12px; padding: 7px 8px; border-bottom: 2px solid var(--line); white-space: nowrap; }
tbody td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: break-word; }
td code, td .id { overflow-wrap: anywhere; }
td.who { min-width: 150px; }
td.nw { white-space: nowrap; }
table.compact { width: auto; min-width: 360px; }
code.jid { white-space: nowrap; overflow-wrap: normal; }
tbody tr:nth-child(even) td { background: #fafbfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.when { white-space: nowrap; font-variant-numeric: tabular-nums; font-size: 12px; }
.sub { display: block; color: var(--muted); font-size: 12px; }
.id { color: var(--muted); font-size: 11px; }
.why { font-style: italic; }
.err { color: var(--bad); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 11.5px; font-weight: 600; white-space: nowrap; background: var(--idle-bg); color: var(--idle); }
.b-certified, .b-certify, .b-done, .b-open, .b-yes { background: var(--ok-bg); color: var(--ok); }
.b-revoked, .b-revoke, .b-failed, .b-no { background: var(--bad-bg); color: var(--bad); }
.b-manual, .b-pending, .b-returned { background: var(--warn-bg); color: var(--warn); }
.b-closed { background: #e4ebf5; color: var(--brand); }
.band .badge { background: rgba(255, 255, 255, .18); color: #fff; }
.grant + .grant { margin-top: 4px; }
.empty { color: var(--muted); font-style: italic; padding: 8px 0; }
footer { padding: 14px 40px 22px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@media (max-width: 800px) { .band, main, nav.toc, footer { padding-left: 16px; padding-right: 16px; } .cols, .cards { grid-template-columns: 1fr 1fr; } dl.facts { grid-template-columns: 1fr; } }
@page { size: A4 landscape; margin: 12mm 10mm; }
@media print {
  body { background: #fff; font-size: 10.5pt; }
  .doc { box-shadow: none; margin: 0; max-width: none; }
  nav.toc { display: none; }
  .band, .badge, .bar span, .card, thead th, .callout { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main, .band, footer { padding-left: 0; padding-right: 0; }
  .band { padding: 10px 12px; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, .card, .callout, dl.facts { break-inside: avoid; }
  table { font-size: 9pt; }
}
</style>
</head>
<body>
<div class="doc">
{{- $h := .H}}{{$i := .H.Info}}{{$p := .H.Info.Population}}{{$t := .T}}
<header class="band">
  <div class="kicker">Access review evidence</div>
  <h1>{{$i.Name}}</h1>
  <div class="meta">Campaign <code>{{$i.ID}}</code><span class="sep">|</span><span class="badge">{{$i.State}}</span><span class="sep">|</span>{{$p.Backend}} account <b>{{$p.Account}}</b><span class="sep">|</span>snapshot of {{utc $p.TakenAt}}<span class="sep">|</span>exported {{utc $h.ExportedAt}}</div>
</header>
<nav class="toc">
  <a href="#summary">Summary</a><a href="#population">Population evidence</a><a href="#reviewers">Reviewers</a>{{if .Full}}<a href="#items">Items</a>{{end}}<a href="#decisions">Decisions</a><a href="#remediation">Remediation</a><a href="#drift">Drift</a><a href="#events">Events</a><a href="#integrity">Integrity</a>
</nav>
<main>

<section id="summary">
<h2>Summary</h2>
<div class="cards">
  <div class="card brand"><div class="n">{{number $t.Items}}</div><div class="l">Items reviewed ({{$i.Spec.ItemKind}}s)</div></div>
  <div class="card ok"><div class="n">{{number $t.Certified}}</div><div class="l">Certified{{if $t.CertifiedByDefault}}, {{number $t.CertifiedByDefault}} by default{{end}}</div></div>
  <div class="card bad"><div class="n">{{number $t.Revoked}}</div><div class="l">Revoked{{if $t.RevokedByDefault}}, {{number $t.RevokedByDefault}} by default{{end}}</div></div>
  <div class="card{{if $t.Undecided}} warn{{end}}"><div class="n">{{number $t.Undecided}}</div><div class="l">Undecided</div></div>
  <div class="card ok"><div class="n">{{number (remN $t "done")}}</div><div class="l">Revokes done and verified</div></div>
  <div class="card{{if remN $t "failed"}} bad{{end}}"><div class="n">{{number (remN $t "failed")}}</div><div class="l">Revokes failed</div></div>
  <div class="card{{if remN $t "manual"}} warn{{end}}"><div class="n">{{number (remN $t "manual")}}</div><div class="l">Blocked by a guard (manual)</div></div>
  <div class="card"><div class="n">{{number $t.Decisions}}</div><div class="l">Decisions recorded by {{number (len .Reviewers)}} reviewers</div></div>
</div>
<div class="bar" role="img" aria-label="{{$t.Certified}} certified, {{$t.Revoked}} revoked, {{$t.Undecided}} undecided">
  <span class="certified" style="width: {{pct $t.Certified $t.Items}}%"></span><span class="revoked" style="width: {{pct $t.Revoked $t.Items}}%"></span><span class="undecided" style="width: {{pct $t.Undecided $t.Items}}%"></span>
</div>
<div class="legend"><i style="background:#1e7a46"></i>certified <i style="background:#b3261e"></i>revoked <i style="background:#b8c2cc"></i>undecided</div>
{{if .Attention}}<div class="callout warn"><h3>Needs attention</h3><ul>{{range .Attention}}<li>{{.}}</li>{{end}}</ul></div>
{{else}}<div class="callout ok">Every item was decided, every revoke was carried out and verified by re-reading the system, and the journal of changes verified.</div>{{end}}
<dl class="facts">
  <dt>Campaign</dt><dd>{{$i.Name}} <span class="id">{{$i.ID}}</span></dd>
  <dt>Created</dt><dd>{{utc $i.CreatedAt}}{{with $i.CreatedBy}} by {{.}}{{end}}</dd>
  {{if not $i.Due.IsZero}}<dt>Due</dt><dd>{{utc $i.Due}}</dd>{{end}}
  <dt>State</dt><dd><span class="badge b-{{$i.State}}">{{$i.State}}</span>{{if not $i.ClosedAt.IsZero}} {{utc $i.ClosedAt}} by {{$i.ClosedBy}}{{end}}</dd>
  <dt>Scope</dt><dd>{{scope $i.Spec.Scope}}</dd>
  <dt>Reviewers assigned by</dt><dd>{{rules $i.Spec}}; nobody reviews their own access</dd>
  <dt>Several reviewers on an item</dt><dd>{{consensus $i.Spec.Consensus}}</dd>
  <dt>Undecided items at close</dt><dd>{{defaultAt $i.Spec.Default}}</dd>
  <dt>Revokes carried out</dt><dd>{{remediate $i.Spec.Remediate}}, through zgov's provisioning (guards, journal), each verified by re-reading the person's access</dd>
</dl>
</section>

<section id="population">
<h2>Population evidence</h2>
<p>The population was drawn from the snapshot below, whose content hash was checked when the campaign was created. To test that it is complete and accurate, run the scope again on the snapshot with this hash{{if $p.SnapshotKept}}: the snapshot is part of this export (<code>{{$i.ID}}-snapshot.json</code>; its SHA-256 must be the one below){{end}}.</p>
<div class="cols">
<dl class="facts">
  <dt>Snapshot hash</dt><dd><code>{{$p.SnapshotHash}}</code></dd>
  <dt>Snapshot SHA-256</dt><dd><code>{{$p.SnapshotSHA256}}</code></dd>
  <dt>Snapshot kept</dt><dd>{{if $p.SnapshotKept}}yes{{else}}no (hash, time, scope and counts recorded){{end}}</dd>
  <dt>System and account</dt><dd>{{$p.Backend}}, {{$p.Account}}</dd>
  <dt>Taken</dt><dd>{{utc $p.TakenAt}}</dd>
  <dt>Sync scope</dt><dd>{{with $p.Scope}}{{map .}}{{else}}the whole account{{end}}</dd>
  <dt>Requests the sync sent</dt><dd>{{number $p.Requests}}</dd>
</dl>
<dl class="facts">
  <dt>Snapshot: resources</dt><dd>{{number $p.Snapshot.Resources}} of {{number $p.Snapshot.ResourceTypes}} types</dd>
  <dt>Snapshot: entitlements</dt><dd>{{number $p.Snapshot.Entitlements}}</dd>
  <dt>Snapshot: grants</dt><dd>{{number $p.Snapshot.Grants}}</dd>
  <dt>Campaign scope</dt><dd>{{scope $i.Spec.Scope}}</dd>
  <dt>In scope: people</dt><dd>{{number $p.Principals}}</dd>
  <dt>In scope: grants</dt><dd>{{number $p.Grants}}{{if $t.TimeBound}} ({{number $t.TimeBound}} time-bound){{end}}</dd>
  <dt>In scope: items</dt><dd>{{number $p.Items}}</dd>
</dl>
</div>
</section>

<section id="reviewers">
<h2>Reviewers</h2>
<p class="note">Assigned by {{rules $i.Spec}}. Items counts what each reviewer reviews now; moved away counts items reassigned or delegated to someone else.</p>
<table>
<thead><tr><th>Reviewer</th><th class="num">Items</th><th class="num">Certified</th><th class="num">Revoked</th><th class="num">Undecided</th><th class="num">Moved away</th><th class="num">Decisions</th><th>First decision</th><th>Last decision</th></tr></thead>
<tbody>
{{range .Reviewers}}<tr><td>{{.Reviewer}}</td><td class="num">{{number .Items}}</td><td class="num">{{number .Certified}}</td><td class="num">{{number .Revoked}}</td><td class="num">{{number .Undecided}}</td><td class="num">{{number .Moved}}</td><td class="num">{{number .Decisions}}</td><td class="when">{{utc .First}}</td><td class="when">{{utc .Last}}</td></tr>
{{end}}</tbody>
</table>
</section>

{{if .Full}}
<section id="items">
<h2>Items</h2>
<p class="note">Every item of the campaign: the person and access as the snapshot showed them, the reviewers with their decisions, the outcome and the remediation.</p>
<table>
<thead><tr><th>#</th><th>Person</th><th>Access</th><th>Reviewers and decisions</th><th>Outcome</th><th>Remediation</th></tr></thead>
<tbody>
{{range .Items}}<tr id="item-{{.ID}}">
<td class="num">{{.ID}}</td>
<td class="who">{{.Label}}<span class="sub">{{.Email}}{{if .Role}} · {{.Role}}{{end}}{{if .Suspended}} · <b>suspended</b>{{end}}</span><span class="sub">last login: {{with utc .LastLogin}}{{.}}{{else}}never{{end}}</span></td>
<td>{{range .Grants}}<div class="grant">{{template "grant" .}}</div>{{end}}</td>
<td>{{range .Reviewers}}<div class="grant">{{if not .Active}}<s>{{.Reviewer}}</s>{{else}}{{.Reviewer}}{{end}} {{if .Verdict}}<span class="badge b-{{.Verdict}}">{{.Verdict}}</span>{{end}}<span class="sub">{{.Rule}}{{if .Reason}}: {{.Reason}}{{end}}</span>{{if .Justification}}<span class="sub why">“{{.Justification}}”</span>{{end}}</div>{{end}}</td>
<td><span class="badge b-{{outcome .Outcome.State}}">{{outcome .Outcome.State}}</span>{{if eq .Outcome.By "default"}}<span class="sub">by the default at close</span>{{end}}<span class="sub">{{utc .Outcome.At}}</span></td>
<td>{{if .Remediation.Status}}<span class="badge b-{{.Remediation.Status}}">{{.Remediation.Status}}</span>{{end}}</td>
</tr>
{{end}}</tbody>
</table>
</section>
{{end}}

<section id="decisions">
<h2>Decisions</h2>
{{if .Full}}<p class="note">Every decision recorded, in order, changed ones too (the later one counts): {{number $t.Decisions}} in all, {{number $t.RevokeDecisions}} revokes.</p>
{{else}}<div class="callout warn">This campaign has {{number $t.Items}} items, more than the {{number $h.MaxRows}} this report lists in full. Listed here: every revoke decision ({{number $t.RevokeDecisions}}), with its item's outcome and remediation. The {{number $t.Certifications}} certify decisions are counted per reviewer above; <code>{{$i.ID}}-items.csv</code>, <code>{{$i.ID}}-evidence.xlsx</code> and <code>{{$i.ID}}-evidence.json</code> hold every decision and every item.</div>{{end}}
{{if not .Decisions}}<p class="empty">No {{if not .Full}}revoke {{end}}decision was recorded.</p>
{{else if .Full}}<table>
<thead><tr><th class="num">Seq</th><th>Decided</th><th>Item</th><th>Reviewer</th><th>Decision</th><th>Justification</th></tr></thead>
<tbody>
{{range .Decisions}}<tr><td class="num">{{.Seq}}</td><td class="when">{{utc .At}}</td><td class="who">{{with .Item}}#{{.ID}} {{.Label}}{{range .Grants}}<span class="sub">{{template "access" .}}</span>{{end}}{{else}}#{{.ItemID}}{{end}}</td><td>{{.Reviewer}}</td><td><span class="badge b-{{.Verdict}}">{{.Verdict}}</span></td><td class="why">{{.Justification}}</td></tr>
{{end}}</tbody>
</table>
{{else}}<p class="note">By reviewer: {{range $k, $r := .ByReviewer}}{{if $k}}, {{end}}<a href="#revokes-{{$k}}">{{$r.Reviewer}}</a> ({{number (len $r.Decisions)}}){{end}}.</p>
{{range $k, $r := .ByReviewer}}<h3 id="revokes-{{$k}}">Revoke decisions by {{$r.Reviewer}} ({{number (len $r.Decisions)}})</h3>
<table class="big">
<thead><tr><th class="num">Seq</th><th>Decided</th><th>Item</th><th>Access</th><th>Justification</th><th>Outcome and remediation</th></tr></thead>
<tbody>
{{range $r.Decisions}}<tr><td class="num">{{.Seq}}</td><td class="when">{{utc .At}}</td>{{with .Item}}<td>#{{.ID}} {{.Label}}</td><td>{{range $g, $x := .Grants}}{{if $g}}; {{end}}{{template "access" $x}}{{end}}</td>{{else}}<td>#{{.ItemID}}</td><td></td>{{end}}<td class="why">{{.Justification}}</td><td>{{with .Item}}{{outcome .Outcome.State}}{{if eq .Outcome.State "revoked"}}: {{template "proof" .}}{{end}}{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}{{end}}
</section>

<section id="remediation">
<h2>Remediation</h2>
<p class="note">Each revoke is carried out through zgov's provisioning (guards, a journal entry before and after the change) and verified by re-reading the person's access: the re-read's time and result are the proof. Done means verified.</p>
<div class="cards">
{{range statuses}}<div class="card{{if eq . "done"}} ok{{else if eq . "failed"}}{{if remN $t .}} bad{{end}}{{else if remN $t .}} warn{{end}}"><div class="n">{{number (remN $t .)}}</div><div class="l">{{remText .}}</div></div>{{end}}
{{if remN $t ""}}<div class="card warn"><div class="n">{{number (remN $t "")}}</div><div class="l">not started</div></div>{{end}}
</div>
{{if .Verify}}<table class="compact">
<thead><tr><th>Verified by</th><th class="num">Items</th><th class="num">Verified</th><th>First re-read</th><th>Last re-read</th></tr></thead>
<tbody>{{range .Verify}}<tr><td>{{.Method}}</td><td class="num">{{number .Items}}</td><td class="num">{{number .Verified}}</td><td class="when">{{utc .First}}</td><td class="when">{{utc .Last}}</td></tr>{{end}}</tbody>
</table>{{end}}
{{if and .Problems (not .Full)}}<h3>Revokes not done ({{number (len .Problems)}})</h3>
<table>
<thead><tr><th>#</th><th>Person</th><th>Access</th><th>Status</th><th>Why</th><th>Journal</th><th>Re-read</th></tr></thead>
<tbody>
{{range .Problems}}<tr><td class="num">{{.ID}}</td><td class="who">{{.Label}}<span class="sub">{{.Email}}</span></td><td>{{range .Grants}}<div class="grant">{{template "grant" .}}</div>{{end}}</td>
<td><span class="badge b-{{.Remediation.Status}}">{{remText .Remediation.Status}}</span>{{if .Remediation.Attempts}}<span class="sub">attempt {{.Remediation.Attempts}}</span>{{end}}</td>
<td>{{with .Remediation.Guard}}guard <b>{{.}}</b>{{end}}{{with .Remediation.Error}}<span class="sub err">{{.}}</span>{{end}}</td>
<td>{{range .JournalIDs}}<code class="id jid">{{.}}</code> {{end}}</td>
<td>{{with .Remediation.Verification}}{{utc .At}}<span class="sub">{{.Result}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{if .Full}}{{if .Revoked}}<h3>Every revoked item with its proof</h3>
<table>
<thead><tr><th>#</th><th>Person</th><th>Access</th><th>Revoked by</th><th>Status</th><th>Proof: re-read</th><th>Journal</th></tr></thead>
<tbody>
{{range .Revoked}}<tr><td class="num">{{.ID}}</td><td class="who">{{.Label}}<span class="sub">{{.Email}}</span></td><td>{{range .Grants}}<div class="grant">{{template "grant" .}}</div>{{end}}</td>
<td>{{if eq .Outcome.By "default"}}the default at close{{else}}{{.DecidedBy}}{{with .Why}}<span class="sub why">“{{.}}”</span>{{end}}{{end}}<span class="sub">{{utc .Outcome.At}}</span></td>
<td><span class="badge b-{{.Remediation.Status}}">{{remText .Remediation.Status}}</span>{{with .Remediation.Error}}<span class="sub err">{{.}}</span>{{end}}{{with .Remediation.Guard}}<span class="sub">guard {{.}}</span>{{end}}</td>
<td>{{with .Remediation.Verification}}{{if .Verified}}<span class="badge b-yes">verified</span>{{else}}<span class="badge b-no">still held</span>{{end}} {{utc .At}}<span class="sub">{{.Method}}: {{.Result}}</span>{{else}}<span class="note">no re-read yet</span>{{end}}</td>
<td>{{range .JournalIDs}}<code class="id jid">{{.}}</code> {{end}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="empty">Nothing was revoked.</p>{{end}}
{{else}}<p class="note">Every revoke decision above shows its remediation and proof; revokes by the default at close that are done are counted above, and each is in the CSV with its proof.</p>{{end}}
</section>

<section id="drift">
<h2>Drift</h2>
{{with .Drift}}<p>A later snapshot, <code>{{.SnapshotHash}}</code> taken {{utc .TakenAt}}, was compared with the campaign: access granted to reviewed people since the campaign's snapshot (nobody reviewed it), and revoked access that is held again.</p>
<div class="cards">
  <div class="card{{if .Granted}} warn{{end}}"><div class="n">{{number .Granted}}</div><div class="l">Granted since, not reviewed</div></div>
  <div class="card{{if .Returned}} bad{{end}}"><div class="n">{{number .Returned}}</div><div class="l">Revoked and held again</div></div>
</div>
{{if $.Returned}}<h3>Revoked access held again</h3>
<table><thead><tr><th>Person</th><th>Grant</th><th class="num">Revoked by item</th></tr></thead><tbody>
{{range $.Returned}}<tr><td>{{if .Name}}{{.Name}}{{else}}{{.PrincipalID}}{{end}}<span class="sub">{{.Email}}</span></td><td><code>{{.GrantID}}</code></td><td class="num">#{{.ItemID}}</td></tr>
{{end}}</tbody></table>{{end}}
{{if $.Granted}}<h3>Access granted since the snapshot</h3>
<table><thead><tr><th>Person</th><th>Grant</th></tr></thead><tbody>
{{range $.Granted}}<tr><td>{{if .Name}}{{.Name}}{{else}}{{.PrincipalID}}{{end}}<span class="sub">{{.Email}}</span></td><td><code>{{.GrantID}}</code></td></tr>
{{end}}</tbody></table>{{if $.GrantedN}}<p class="note">{{number $.GrantedN}} more are in <code>{{$i.ID}}-evidence.xlsx</code> (sheet Drift) and <code>{{$i.ID}}-evidence.json</code>.</p>{{end}}{{end}}
{{if not (or .Granted .Returned)}}<div class="callout ok">No drift: nothing was granted to reviewed people since, and no revoked access came back.</div>{{end}}
{{else}}<p class="empty">No drift report is part of this export.</p>{{end}}
{{if .DriftEvs}}<h3>Drift checks recorded</h3><table><thead><tr><th>When</th><th>Result</th></tr></thead><tbody>
{{range .DriftEvs}}<tr><td class="when">{{utc .At}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody></table>{{end}}
</section>

<section id="events">
<h2>Events</h2>
<table class="compact">
<thead><tr><th>Event</th><th class="num">Count</th></tr></thead>
<tbody>{{range kinds}}{{if eventN $t .}}<tr><td>{{.}}</td><td class="num">{{number (eventN $t .)}}</td></tr>{{end}}{{end}}</tbody>
</table>
{{if .Events}}<table>
<thead><tr><th class="num">Seq</th><th>When</th><th>Event</th><th>Item</th><th>By</th><th>From → to</th><th>Reason and detail</th></tr></thead>
<tbody>
{{range .Events}}<tr><td class="num">{{.Seq}}</td><td class="when">{{utc .At}}</td><td class="nw">{{.Kind}}</td><td class="num">{{if .ItemID}}#{{.ItemID}}{{end}}</td><td>{{.Actor}}</td><td>{{if or .From .To}}{{.From}} → {{.To}}{{end}}</td><td>{{.Reason}}{{with .Detail}}<span class="sub">{{.}}</span>{{end}}</td></tr>
{{end}}</tbody>
</table>{{end}}
{{if .Omitted}}<p class="note">{{number .Omitted}} more events (defaults applied at close and remediation of single items, or beyond the first {{number $h.MaxRows}}) are in <code>{{$i.ID}}-evidence.json</code>.</p>{{end}}
</section>

<section id="integrity">
<h2>Integrity</h2>
<h3>Journal of changes</h3>
{{with $h.Journal}}{{if .Verified}}<div class="callout ok">The journal of changes verified: {{number .Entries}} entries, each matching its hash and linked to the one before it{{if .Anchors}}, {{.Anchors}} anchors checked{{end}}.</div>{{else}}<div class="callout bad"><b>The journal of changes failed verification</b> ({{.Tamper}}): {{.Error}}</div>{{end}}
<dl class="facts">
  <dt>Verified at</dt><dd>{{utc .At}}</dd>
  <dt>Entries verified</dt><dd>{{number .Entries}}</dd>
  <dt>Head (keep as an anchor)</dt><dd><code>{{.Head.Seq}}:{{.Head.Hash}}</code></dd>
  <dt>Changes not finished</dt><dd>{{.Unfinished}}</dd>
</dl>
{{else}}<div class="callout warn">The journal of changes was not verified for this export: no journal was given.</div>{{end}}
<h3>Files</h3>
{{if $h.Files}}<p>The other files of this export, with their SHA-256 digests. <code>{{$i.ID}}-manifest.json</code> lists every file, this report too, and <code>sha256sum -c {{$i.ID}}-manifest.sha256</code> checks them.</p>
<table><thead><tr><th>File</th><th class="num">Bytes</th><th>SHA-256</th></tr></thead><tbody>
{{range $h.Files}}<tr><td>{{.Name}}</td><td class="num">{{number .Size}}</td><td><code>{{.SHA256}}</code></td></tr>
{{end}}</tbody></table>{{else}}<p class="note">This report was written on its own; an export's manifest lists its files with their SHA-256 digests.</p>{{end}}
</section>
</main>
<footer>Written by zgov {{$h.Version}} at {{utc $h.ExportedAt}} from campaign <code>{{$i.ID}}</code>. Times are UTC. This file has no scripts and loads nothing from outside itself.</footer>
</div>
</body>
</html>
{{define "grant"}}<b>{{if .Entitlement}}{{.Entitlement}}{{else}}{{.EntitlementID}}{{end}}</b> <span class="note">{{.ResourceType}}{{if .TimeBound}}, until {{utc .ExpiresAt}}{{else}}, standing{{end}}</span><span class="sub id">{{.GrantID}}</span>{{with .Granted}}<span class="sub">granted {{utc .At}} by {{.By}}{{with .Reason}}: {{.}}{{end}}</span>{{end}}{{end}}
{{define "access"}}{{if .Entitlement}}{{.Entitlement}}{{else}}{{.EntitlementID}}{{end}} ({{.ResourceType}}){{end}}
{{define "proof"}}<span class="badge b-{{.Remediation.Status}}">{{remText .Remediation.Status}}</span>{{with .Remediation.Verification}}<span class="sub">{{if .Verified}}verified{{else}}still held{{end}} {{utc .At}}</span>{{end}}{{with .Remediation.Error}}<span class="sub err">{{.}}</span>{{end}}{{with .Remediation.Guard}}<span class="sub">guard {{.}}</span>{{end}}{{end}}
`
