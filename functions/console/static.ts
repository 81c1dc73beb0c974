// The console's only stylesheet and script, served by the function itself: nothing comes from
// another host, so the console works on a closed network.

export const CSS = `*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:16px;align-items:center;padding:8px 16px;background:#1d2330;color:#fff;flex-wrap:wrap}
header a{color:#cfd6e4;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600}
.brand{font-weight:700;color:#fff!important}nav{display:flex;gap:12px;flex-wrap:wrap;flex:1}
.who{margin-left:auto;display:flex;gap:8px;align-items:center}main{padding:16px;max-width:1200px}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eef0f4;font-weight:600}code,pre{font:12px/1.4 ui-monospace,monospace}
pre.log{background:#111;color:#ddd;padding:8px;max-height:60vh;overflow:auto;white-space:pre-wrap}
.status-running,.status-queued{color:#a15c00}.status-succeeded{color:#16794c}.status-failed{color:#b42318}.status-cancelled{color:#666}
form.action{display:inline-flex;gap:4px;margin:2px 4px 2px 0}button{font:inherit;padding:2px 10px;border:1px solid #8a94a6;border-radius:4px;background:#fff;cursor:pointer}
button.danger{border-color:#b42318;color:#b42318}input,select{font:inherit;padding:2px 4px}
.error{color:#b42318;font-weight:600}.notice{background:#e8f3ec;border:1px solid #16794c;padding:6px 10px}.muted,.empty{color:#6b7280}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}dt{color:#6b7280}dd{margin:0}ul{margin:0;padding-left:18px}
.chart svg{background:#fff;border:1px solid #e3e6eb;max-width:100%;height:auto}.chart .series{fill:none;stroke:#2563eb;stroke-width:2}
.chart circle{fill:#2563eb}.chart text{font-size:11px;fill:#4b5563}.chart .grid{stroke:#eef0f4}

.signin{max-width:360px;background:#fff;padding:16px;border:1px solid #e3e6eb}.signin label{display:block;margin:8px 0}.signin input{width:100%}`;

/**
 * The live log of a running run: asks for what was written since the last look (a byte offset),
 * appends it, and refreshes the status and stages, until the run ends. Cancel asks to confirm.
 */
export const JS = `(()=>{const b=document.body;const base=b.dataset.base||'';
for(const f of document.querySelectorAll('form[data-confirm]'))f.addEventListener('submit',e=>{if(!confirm(f.dataset.confirm))e.preventDefault()});
const log=document.getElementById('log');if(!log)return;const id=log.dataset.run;let offset=Number(log.dataset.offset||0);
const status=document.getElementById('status');const stages=document.getElementById('stages');
async function tick(){try{const r=await fetch(base+'/api/runs/'+encodeURIComponent(id)+'/log?offset='+offset,{credentials:'same-origin'});
if(!r.ok){setTimeout(tick,3000);return}const d=await r.json();if(d.text){const atEnd=log.scrollTop+log.clientHeight>=log.scrollHeight-4;log.append(d.text);if(atEnd)log.scrollTop=log.scrollHeight}
offset=d.next;log.dataset.offset=String(offset);if(status){status.textContent=d.status;status.className='status-'+d.status}
if(stages&&d.stagesHtml!==undefined)stages.innerHTML=d.stagesHtml;
if(d.status==='running'||d.status==='queued')setTimeout(tick,1000);else{const c=document.getElementById('cancel');if(c)c.remove()}}catch{setTimeout(tick,3000)}}
if(log.dataset.live==='1')setTimeout(tick,1000)})();`;
