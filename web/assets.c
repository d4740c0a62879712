/*
 * assets.c: the two static files every page uses, compiled in so ra-web reads no file
 * after start-up: the style sheet, and the card page's script, which talks only to the
 * subscriber's local card agent (web.agent_origin, allowed by the pages' CSP) and never
 * handles a PIN or a password.
 */
#include "web.h"

static const char style_css[] =
	"body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK TC',sans-serif;margin:0;color:#222;background:#f7f7f4}"
	"header{background:#1d3b5a;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center;flex-wrap:wrap}"
	"header .site{font-weight:bold;margin:0;flex:1}header a{color:#fff;margin-right:.8em}"
	"main{max-width:44em;margin:1.5em auto;padding:0 1em}label{display:block;margin-top:.9em}"
	"input,textarea{font-size:1em;padding:.35em;width:100%;max-width:24em;box-sizing:border-box}"
	"input[type=checkbox]{width:auto}fieldset{border:1px solid #bbb;margin-top:1em}"
	"button{margin-top:1em;padding:.45em 1.2em;font-size:1em}form.inline,form.lang{display:inline;margin:0}"
	"header button{margin:0}.secondary{background:#ddd}"
	"table{border-collapse:collapse;margin-top:1em}td,th{border:1px solid #bbb;padding:.35em .7em;text-align:left}"
	".serial{font-family:monospace}.error{color:#a00;font-weight:bold}.done{color:#060;font-weight:bold}"
	"#code-img{display:block;margin:.4em 0;border:1px solid #bbb}ul.ops{list-style:none;padding:0}\n";

/*
 * The card page's script: asks the subscriber's local card agent (web.agent_origin)
 * whether it runs and which card it sees, then enables the operations. A click sends the
 * agent only the operation, the account and the language; the agent shows the subscriber
 * its own window for the confirmation, the PIN and the password, and its answer's lines
 * are shown in #card-result (as text, never as HTML).
 */
static const char card_js[] =
	"(function(){\n"
	"var d=document.getElementById('card');if(!d)return;\n"
	"var en=d.dataset.lang==='en',st=document.getElementById('agent-status'),out=document.getElementById('card-result');\n"
	"var say=function(zh,e){st.textContent=en?e:zh;};\n"
	"var ops=document.querySelectorAll('.card-op');\n"
	"var enable=function(on){ops.forEach(function(b){b.disabled=!on;});};\n"
	"var show=function(ok,lines){out.textContent='';out.className=ok?'done':'error';out.dataset.ok=ok?'1':'0';\n"
	" lines.forEach(function(l){var p=document.createElement('p');p.textContent=l;out.appendChild(p);});\n"
	" out.dataset.n=String((+out.dataset.n||0)+1);};\n"
	"fetch(d.dataset.agent+'/v1/hello',{method:'GET',mode:'cors',credentials:'omit'})\n"
	".then(function(r){if(!r.ok)throw new Error(r.status);return r.json();})\n"
	".then(function(a){say('讀卡程式已連線：'+(a.reader||a.card||''),'Card agent connected: '+(a.reader||a.card||''));enable(true);})\n"
	".catch(function(){say('找不到讀卡程式：請在您的電腦上啟動讀卡程式並插入卡片，然後重新載入本頁。',"
	"'No card agent found: start the card agent on your computer, insert your card and reload this page.');});\n"
	"ops.forEach(function(b){b.addEventListener('click',function(){\n"
	" enable(false);out.textContent=en?'Continue in the card agent\\'s window…':'請在讀卡程式的視窗中繼續……';out.className='';\n"
	" fetch(d.dataset.agent+'/v1/'+b.dataset.op,{method:'POST',mode:'cors',credentials:'omit',\n"
	"  headers:{'Content-Type':'application/json'},body:JSON.stringify({account:d.dataset.account,lang:d.dataset.lang})})\n"
	" .then(function(r){return r.json();})\n"
	" .then(function(a){show(!!a.ok,a.messages||[a.error||'?']);})\n"
	" .catch(function(){show(false,[en?'The card agent did not answer.':'讀卡程式沒有回應。']);})\n"
	" .then(function(){enable(true);});});});\n"
	"})();\n";

enum MHD_Result page_style(struct web_req *r)
{
	return http_send(r, MHD_HTTP_OK, "text/css; charset=utf-8", style_css, sizeof style_css - 1);
}

enum MHD_Result page_card_js(struct web_req *r)
{
	return http_send(r, MHD_HTTP_OK, "text/javascript; charset=utf-8", card_js, sizeof card_js - 1);
}
