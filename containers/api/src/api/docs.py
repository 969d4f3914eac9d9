"""The OpenAPI document and a docs page that renders it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from api.openapi import build_document, operation

bp = Blueprint("docs", __name__, url_prefix="/api")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AI Investment Agent API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:980px;
     padding:1rem 1.5rem;color:#1d2733}
h1{font-size:1.6rem}h2{border-bottom:1px solid #dde3ea;padding-top:1rem}
.op{border:1px solid #dde3ea;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700;font-family:monospace}
.GET{color:#1565c0}.POST{color:#2e7d32}.PUT{color:#ef6c00}.DELETE{color:#c62828}
code,pre{font-family:ui-monospace,monospace;font-size:13px}
pre{background:#f5f7fa;padding:.5rem;overflow:auto;max-height:18rem}
details summary{cursor:pointer}
</style></head><body>
<h1>AI Investment Agent API</h1>
<p id="intro"></p>
<p>Machine-readable document: <a href="/api/openapi.json">/api/openapi.json</a></p>
<div id="ops">Loading…</div>
<script>
fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
  document.getElementById('intro').textContent=doc.info.description;
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(ops)){
      (byTag[op.tags[0]]=byTag[op.tags[0]]||[]).push({path,method:method.toUpperCase(),op});
    }
  }
  const root=document.getElementById('ops');root.textContent='';
  for(const [tag,ops] of Object.entries(byTag)){
    const h=document.createElement('h2');h.textContent=tag;root.appendChild(h);
    for(const {path,method,op} of ops){
      const d=document.createElement('details');d.className='op';
      const s=document.createElement('summary');
      const m=document.createElement('span');m.className='m '+method;m.textContent=method;
      const c=document.createElement('code');c.textContent=path;
      s.append(m,c,document.createTextNode(' — '+op.summary));d.appendChild(s);
      const pre=document.createElement('pre');
      pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
      d.appendChild(pre);root.appendChild(d);
    }
  }
});
</script></body></html>"""


@operation(bp, "/openapi.json", summary="This API's OpenAPI 3 document", public=True)
def get_openapi() -> Any:
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = build_document("AI Investment Agent API", "1.0.0")
        current_app.extensions["openapi_document"] = document
    return jsonify(document)


@operation(
    bp,
    "/docs",
    summary="Human-readable API documentation",
    public=True,
    response_content="text/html",
)
def get_docs() -> Response:
    return Response(_PAGE, mimetype="text/html")
