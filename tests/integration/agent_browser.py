#!/usr/bin/python3
# The subscriber's card operations in a real browser: headless Chromium (python3-selenium)
# on ra-web's card page over HTTPS, calling a real card-agent on 127.0.0.1, which drives a
# virtual card in a vpcd reader and relays to the real back office. The agent's prompt is
# the scripted pinentry (tests/fixtures/pinentry): this script writes its answers file
# before each click, as the subscriber would type them into the agent's window.
# Prints "ok - NAME" / "not ok - NAME: why"; a screenshot per step in SHOTS.
#
# usage: agent_browser.py PHASE BASE_URL SPKI SHOTS ACCOUNT SECRETS_DIR ANSWERS [OTHER_URL]
#   PHASE 1: PIN change, a cancelled confirmation, three wrong PINs block the card, unlock
#            with the website password, renewal refused before its window;
#   PHASE 2 (the back office's clock inside the window): renewal, download, export, and a
#            page of OTHER_URL (another origin) that the agent refuses.
# SECRETS_DIR holds pw (the website password), pin0 (the sheet's PIN), pin1, pin2 and code
# (ra-web's test verification code), one a file; no secret is on the command line.
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

phase, base, spki, shots, account, secrets, answers = sys.argv[1:8]
other = sys.argv[8] if len(sys.argv) > 8 else None
os.makedirs(shots, exist_ok=True)


def secret(name):
    with open(os.path.join(secrets, name)) as f:
        return f.read().strip()


PW, PIN0, PIN1, PIN2, CODE = (secret(n) for n in ("pw", "pin0", "pin1", "pin2", "code"))
step = [0 if phase == "1" else 20]


def ok(name):
    print("ok - agent browser: " + name, flush=True)


def fail(name, why=""):
    print("not ok - agent browser: %s%s" % (name, ": " + why if why else ""), flush=True)


def check(name, cond, why=""):
    (ok if cond else lambda n: fail(n, why))(name)
    return cond


def shot(d, name):
    step[0] += 1
    d.save_screenshot(os.path.join(shots, "%02d-%s.png" % (step[0], name)))


def answer(*lines):
    """What the subscriber types into the agent's window, in order (0600)."""
    fd = os.open(answers, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(l + "\n" for l in lines))


def operate(d, op, *typed):
    """Click OP on the card page with TYPED as the agent window's answers; the result text."""
    answer(*typed)
    res = d.find_element(By.ID, "card-result")
    n = res.get_attribute("data-n") or "0"
    d.find_element(By.CSS_SELECTOR, ".card-op[data-op='%s']" % op).click()
    WebDriverWait(d, 120).until(lambda drv: (res.get_attribute("data-n") or "0") != n)
    return res.text


def login_card(d):
    d.get(base + "/login")
    d.find_element(By.ID, "account").send_keys(account)
    d.find_element(By.ID, "password").send_keys(PW)
    d.find_element(By.ID, "code").send_keys(CODE)
    d.execute_script("window.__raOldPage = true;")
    d.find_element(By.ID, "login-submit").click()
    WebDriverWait(d, 30).until(lambda drv: drv.execute_script(
        "return window.__raOldPage === undefined && document.readyState === 'complete'"))
    d.get(base + "/card")
    wait_agent(d)


def wait_agent(d):
    """Until the card page's script has heard from the agent (or given up)."""
    WebDriverWait(d, 20).until(lambda drv: not any(
        w in drv.find_element(By.ID, "agent-status").text for w in ("正在尋找", "Looking for")))
    return d.find_element(By.ID, "agent-status").text


profile = tempfile.mkdtemp(prefix="ra-chromium-")
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile, "--window-size=1000,900", "--lang=en",
          "--ignore-certificate-errors-spki-list=" + spki):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    login_card(d)
    # English pages (the subscribers' default is Traditional Chinese): the language button.
    d.execute_script("window.__raOldPage = true;")
    d.find_element(By.ID, "lang").click()
    WebDriverWait(d, 30).until(lambda drv: drv.execute_script(
        "return window.__raOldPage === undefined && document.readyState === 'complete'"))
    if "/card" not in d.current_url:
        d.get(base + "/card")
    status = wait_agent(d)
    check("phase %s: the card page finds the agent and the card" % phase, "Card agent connected: Virtual PCD" in status,
          status)
    shot(d, "agent-connected")
    if phase == "1":
        out = operate(d, "pin-change", "no")
        check("a confirmation refused in the agent's window stops the operation", "refused in the agent's window" in out, out)
        shot(d, "confirmation-refused")
        out = operate(d, "pin-change", "yes", PIN0, PIN1, PIN1)
        check("PIN change through the agent", "PIN changed" in out, out)
        shot(d, "pin-changed")
        for i in (1, 2, 3):
            out = operate(d, "pin-change", "yes", "000000", PIN2, PIN2)
        check("the third wrong PIN blocks the card, and the page says how to unlock it",
              "locked" in out and "Unlock the card" in out, out)
        shot(d, "pin-blocked")
        out = operate(d, "unlock", "yes", PW, PIN2, PIN2)
        check("unlock with the website password and a new PIN", "card unlocked and PIN reset" in out, out)
        shot(d, "unlocked")
        out = operate(d, "renew", "yes", PW, PIN2)
        check("renewal before its window is refused", "renewal opens on" in out, out)
        shot(d, "renew-refused")
    else:
        out = operate(d, "renew", "yes", PW, PIN2)
        check("renewal inside its window: new keys and certificates", "certificates renewed" in out, out)
        shot(d, "renewed")
        out = operate(d, "download", "yes", PW)
        check("download of the certificates to the card", "certificates written to the card" in out, out)
        shot(d, "downloaded")
        out = operate(d, "export", "yes")
        check("export of the certificates and the CA chain", out.count("exported:") == 3, out)
        shot(d, "exported")
        if other:
            answer("yes", PIN2, PIN1, PIN1)
            d.get(other)
            res = d.find_element(By.ID, "result")
            WebDriverWait(d, 20).until(lambda drv: res.text != "")
            check("a page of another origin is refused by the agent", res.text.startswith("refused"), res.text)
            shot(d, "other-origin-refused")
finally:
    d.quit()
