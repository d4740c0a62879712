#!/usr/bin/python3
# make demo's card agent step in a real browser (headless Chromium through python3-selenium):
# the subscriber logs in, opens the card page, which finds card-agent on 127.0.0.1, resets
# the forgotten PIN with the website password (unlock) and then changes it, each confirmed
# and typed in the agent's window (the demo stands in for the subscriber there with the
# scripted pinentry: WORK/agent-answers, written here before each click). A screenshot of
# each step goes to SHOTS. Prints one line per operation and, last, "N card operations".
#
# usage: demo-agent.py BASE_URL SPKI_HASH SHOTS WORK ACCOUNT
# WORK holds ACCOUNT.pw (the website password read off the sheet), code, pin1, pin2 (0600).
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, spki, shots, work, account = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)


def read(name):
    with open(os.path.join(work, name)) as f:
        return f.read().strip()


def answer(*lines):
    fd = os.open(os.path.join(work, "agent-answers"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("".join(l + "\n" for l in lines))


def submit(d, element_id):
    d.execute_script("window.__raOldPage = true;")
    d.find_element(By.ID, element_id).click()
    WebDriverWait(d, 60).until(lambda drv: drv.execute_script(
        "return window.__raOldPage === undefined && document.readyState === 'complete'"))


def operate(d, op, *typed):
    answer(*typed)
    res = d.find_element(By.ID, "card-result")
    n = res.get_attribute("data-n") or "0"
    d.find_element(By.CSS_SELECTOR, ".card-op[data-op='%s']" % op).click()
    WebDriverWait(d, 120).until(lambda drv: (res.get_attribute("data-n") or "0") != n)
    return res.get_attribute("data-ok") == "1", res.text.replace("\n", " / ")


pw, code, pin1, pin2 = read(account + ".pw"), read("code"), read("pin1"), read("pin2")
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="ra-chromium-"), "--window-size=1000,800",
          "--ignore-certificate-errors-spki-list=" + spki):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
done = 0
try:
    d.get(base + "/login")
    d.find_element(By.ID, "account").send_keys(account)
    d.find_element(By.ID, "password").send_keys(pw)
    d.find_element(By.ID, "code").send_keys(code)
    submit(d, "login-submit")
    d.get(base + "/card")
    WebDriverWait(d, 20).until(lambda drv: "尋找" not in drv.find_element(By.ID, "agent-status").text)
    print("card page: " + d.find_element(By.ID, "agent-status").text)
    d.save_screenshot(os.path.join(shots, "agent-1-card-page.png"))
    for name, op, typed in (("PIN reset with the website password", "unlock", ("yes", pw, pin1, pin1)),
                            ("PIN change", "pin-change", ("yes", pin1, pin2, pin2))):
        good, text = operate(d, op, *typed)
        print("%s through the card agent: %s" % (name, text))
        d.save_screenshot(os.path.join(shots, "agent-%d-%s.png" % (done + 2, op)))
        done += good
finally:
    d.quit()
print("%d card operations" % done)
