#!/usr/bin/python3
# The subscriber's pages in a real browser: headless Chromium (Debian's chromium and
# chromedriver, through python3-selenium) against a real ra-web over HTTPS, with the real
# daemons behind it. Prints "ok - NAME" / "not ok - NAME: why" per check and saves a
# screenshot of every step in SHOTS.
#
# usage: web_browser.py BASE_URL SPKI_HASH SHOTS ACCOUNT_LOCK ACCOUNT_MAIN SECRETS_DIR
# SECRETS_DIR holds, one a file, mode 0600: pw-lock (the right password of ACCOUNT_LOCK),
# pw-main, pw-new (ACCOUNT_MAIN's password before and after the change) and code (the
# verification code ra-web shows under --insecure-test). No secret is on the command line.
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, spki, shots, acct_lock, acct_main, secrets = sys.argv[1:7]
os.makedirs(shots, exist_ok=True)


def secret(name):
    with open(os.path.join(secrets, name)) as f:
        return f.read().strip()


PW_LOCK, PW_MAIN, PW_NEW, CODE = secret("pw-lock"), secret("pw-main"), secret("pw-new"), secret("code")
step = [0]


def ok(name):
    print("ok - browser: " + name, flush=True)


def fail(name, why=""):
    print("not ok - browser: %s%s" % (name, ": " + why if why else ""), flush=True)


def check(name, cond, why=""):
    if cond:
        ok(name)
    else:
        fail(name, why)
    return cond


def shot(d, name):
    step[0] += 1
    path = os.path.join(shots, "%02d-%s.png" % (step[0], name))
    d.save_screenshot(path)
    return path


def submit(d, element_id):
    """Click a button that loads a new page, and wait until the new page replaced the old."""
    # A mark on the old page's window: gone once the new page has loaded.
    d.execute_script("window.__raOldPage = true;")
    d.find_element(By.ID, element_id).click()
    WebDriverWait(d, 30).until(lambda drv: drv.execute_script(
        "return window.__raOldPage === undefined && document.readyState === 'complete'"))


def message(d):
    found = d.find_elements(By.ID, "message")
    return found[0].text if found else ""


def login(d, account, password, code=None):
    d.get(base + "/login")
    d.find_element(By.ID, "account").send_keys(account)
    d.find_element(By.ID, "password").send_keys(password)
    d.find_element(By.ID, "code").send_keys(code if code is not None else CODE)
    submit(d, "login-submit")


def rows(d):
    return {r.get_attribute("data-usage"): r.get_attribute("data-status")
            for r in d.find_elements(By.CSS_SELECTOR, "#certs tbody tr")}


profile = tempfile.mkdtemp(prefix="ra-chromium-")
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
          "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile, "--window-size=1000,800",
          # The test CA's server key is trusted by its SPKI hash alone, for this profile only.
          "--ignore-certificate-errors-spki-list=" + spki):
    opts.add_argument(a)
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
try:
    # --- the login page, in Traditional Chinese by default ---------------------------------
    d.get(base + "/")
    check("the site answers over HTTPS and sends a visitor to the login page",
          d.current_url == base + "/login", d.current_url)
    check("the login page is in Traditional Chinese by default", "登入" in d.title and
          d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant-TW", d.title)
    img = d.find_element(By.ID, "code-img")
    check("the verification code is drawn as an image", d.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth", img) == 180)
    cookies = {c["name"]: c for c in d.get_cookies()}
    c = cookies.get("__Host-ra_sid", {})
    check("the session cookie is Secure, HttpOnly and SameSite=Strict",
          c.get("secure") and c.get("httpOnly") and c.get("sameSite") == "Strict", str(c))
    shot(d, "login")

    # --- three wrong passwords lock the account --------------------------------------------
    answers = []
    for i in range(3):
        login(d, acct_lock, "Wrong-Password-%d" % i)
        answers.append(message(d))
        shot(d, "wrong-password-%d" % (i + 1))
    check("a wrong password: the one answer", "帳號、密碼或驗證碼錯誤" in answers[0], answers[0])
    login(d, "u00000000", "Wrong-Password-0")
    unknown = message(d)
    check("an unknown account gets the same answer as a wrong password", unknown == answers[0], unknown)
    login(d, acct_lock, PW_LOCK, code="XXXXX")
    check("a wrong verification code gets the same answer too, and logs nobody in",
          message(d) == answers[0] and d.current_url == base + "/login", message(d))
    login(d, acct_lock, PW_LOCK)
    locked = message(d)
    check("after three wrong passwords the right one is refused: locked", "帳號已鎖定" in locked and
          d.current_url == base + "/login", locked)
    shot(d, "locked")

    # --- log in, certificates, English -----------------------------------------------------
    login(d, acct_main, PW_MAIN)
    check("the right password and code log in and show the certificates", d.current_url == base + "/certs", d.current_url)
    r = rows(d)
    check("both certificates valid", r == {"signature": "valid", "encryption": "valid"}, str(r))
    after = {c["name"]: c["value"] for c in d.get_cookies()}.get("__Host-ra_sid")
    check("logging in gives the session a new id", after and after != c.get("value"))
    shot(d, "certificates")
    submit(d, "lang")
    check("English on request", d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en" and
          "My certificates" in d.title and d.current_url == base + "/certs", d.title)
    shot(d, "certificates-en")

    # --- suspend one certificate -----------------------------------------------------------
    submit(d, "nav-suspend")
    shot(d, "suspend-form")
    d.find_element(By.ID, "password").send_keys(PW_MAIN)
    submit(d, "suspend-submit")
    check("suspend with no certificate ticked is refused", "Tick at least one" in message(d), message(d))
    d.find_element(By.ID, "cert-signature").click()
    d.find_element(By.ID, "reason").send_keys("Card left at the office; suspending signing until I am back")
    d.find_element(By.ID, "password").send_keys(PW_MAIN)
    submit(d, "suspend-submit")
    r = rows(d)
    check("suspend the signature certificate only: it is on hold, the encryption one valid",
          "1 certificate(s) are now on hold" in message(d) and r == {"signature": "held", "encryption": "valid"},
          message(d) + " " + str(r))
    shot(d, "suspended")
    check("the result page came by a redirect (Post/Redirect/Get)", d.current_url == base + "/certs", d.current_url)
    d.refresh()
    check("reloading it sends nothing again and shows the message no more", message(d) == "" and
          rows(d).get("signature") == "held", message(d))
    d.get(base + "/certs")
    check("the certificates page asks the back office afresh: still on hold", rows(d).get("signature") == "held")

    # --- change the website password -------------------------------------------------------
    submit(d, "nav-password")
    d.find_element(By.ID, "password").send_keys(PW_MAIN)
    d.find_element(By.ID, "new_password").send_keys(PW_NEW)
    d.find_element(By.ID, "confirm").send_keys(PW_NEW + "x")
    submit(d, "password-submit")
    check("a confirmation that differs is refused", "confirmation differ" in message(d), message(d))
    shot(d, "password-mismatch")
    d.find_element(By.ID, "password").send_keys(PW_MAIN)
    d.find_element(By.ID, "new_password").send_keys("short1A")
    d.find_element(By.ID, "confirm").send_keys("short1A")
    submit(d, "password-submit")
    check("the password policy speaks through the page", "at least 10 characters" in message(d), message(d))
    d.find_element(By.ID, "password").send_keys(PW_MAIN)
    d.find_element(By.ID, "new_password").send_keys(PW_NEW)
    d.find_element(By.ID, "confirm").send_keys(PW_NEW)
    submit(d, "password-submit")
    check("the password is changed", "has been changed" in message(d), message(d))
    shot(d, "password-changed")

    # --- the card page (the local agent is a later step) -----------------------------------
    submit(d, "nav-card")
    st = d.find_element(By.ID, "agent-status")
    for _ in range(50):
        if "No card agent" in st.text:
            break
        time.sleep(0.1)
    check("the card page looks for the local card agent and says none runs", "No card agent" in st.text, st.text)
    check("card operations wait for the agent", all(not b.is_enabled() for b in
                                                     d.find_elements(By.CSS_SELECTOR, ".card-op")))
    shot(d, "card")

    # --- log out; old and new password --------------------------------------------------------
    submit(d, "logout")
    check("logout ends at the login page", d.current_url == base + "/login", d.current_url)
    d.get(base + "/certs")
    check("after logout the certificates need a login again", d.current_url == base + "/login", d.current_url)
    shot(d, "logged-out")
    login(d, acct_main, PW_MAIN)
    check("the old password no longer works", d.current_url == base + "/login", d.current_url)
    login(d, acct_main, PW_NEW)
    check("the new password works", d.current_url == base + "/certs", d.current_url)
    shot(d, "new-password")
    d.get(base + "/no-such-page")
    check("an unknown page says so in the subscriber's language", "找不到此頁" in d.title, d.title)
    shot(d, "not-found")
finally:
    d.quit()
