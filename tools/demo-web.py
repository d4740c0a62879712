#!/usr/bin/python3
# make demo's online stage in a real browser (headless Chromium through python3-selenium):
# each subscriber logs in with account, password and verification code and looks at the
# certificates; the last one suspends the encryption certificate with a reason. A
# screenshot of every page goes to SHOTS. Passwords are read from WORK/ACCOUNT.pw (0600),
# the code from WORK/code; nothing secret is printed or on the command line.
#
# usage: demo-web.py BASE_URL SPKI_HASH SHOTS WORK ACCOUNT...
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, spki, shots, work = sys.argv[1:5]
accounts = sys.argv[5:]
os.makedirs(shots, exist_ok=True)


def read(path):
    with open(path) as f:
        return f.read().strip()


def submit(d, element_id):
    d.execute_script("window.__raOldPage = true;")
    d.find_element(By.ID, element_id).click()
    WebDriverWait(d, 60).until(lambda drv: drv.execute_script(
        "return window.__raOldPage === undefined && document.readyState === 'complete'"))


code = read(os.path.join(work, "code"))
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + tempfile.mkdtemp(prefix="ra-chromium-"), "--window-size=1000,700",
          "--ignore-certificate-errors-spki-list=" + spki):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
failed = 0
try:
    for n, account in enumerate(accounts, 1):
        d.get(base + "/login")
        if n == 1:
            d.save_screenshot(os.path.join(shots, "01-login.png"))
        d.find_element(By.ID, "account").send_keys(account)
        d.find_element(By.ID, "password").send_keys(read(os.path.join(work, account + ".pw")))
        d.find_element(By.ID, "code").send_keys(code)
        submit(d, "login-submit")
        if d.current_url != base + "/certs":
            print("%s: login refused" % account)
            failed += 1
            continue
        statuses = [r.get_attribute("data-status") for r in d.find_elements(By.CSS_SELECTOR, "#certs tbody tr")]
        print("%s logged in: certificates %s" % (account, ", ".join(statuses)))
        d.save_screenshot(os.path.join(shots, "%02d-%s-certificates.png" % (n + 1, account)))
        if n == len(accounts):
            submit(d, "nav-suspend")
            d.find_element(By.ID, "cert-encryption").click()
            d.find_element(By.ID, "reason").send_keys("電腦送修，暫停加密憑證")
            d.find_element(By.ID, "password").send_keys(read(os.path.join(work, account + ".pw")))
            d.save_screenshot(os.path.join(shots, "%02d-%s-suspend.png" % (n + 2, account)))
            submit(d, "suspend-submit")
            msg = d.find_elements(By.ID, "message")
            print("%s: %s" % (account, msg[0].text if msg else "no answer"))
            d.save_screenshot(os.path.join(shots, "%02d-%s-suspended.png" % (n + 3, account)))
            if not msg or "已停用 1 張憑證" not in msg[0].text:
                failed += 1
        submit(d, "logout")
finally:
    d.quit()
sys.exit(1 if failed else 0)
