// e2e.js — recon-web in Debian's headless chromium (playwright-core, no
// browser download): sign in, filter, open a mismatch, resolve it and see
// the history; a viewer cannot resolve; a POST without the CSRF token is
// refused; an order id with markup renders as text; reading works with
// JavaScript off; every field is labelled; the phone layout does not
// scroll sideways. Screenshots go to $E2E_SHOTS when set.
//
//   node e2e.js BASE_URL   (users alice/reviewer, vic/viewer made by run_e2e.sh)
'use strict';
const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');

const base = process.argv[2];
const shots = process.env.E2E_SHOTS;
const results = [];

async function test(name, fn) {
  try { await fn(); results.push(['ok  ', name]); }
  catch (e) { results.push(['FAIL', name + ': ' + (e && e.message ? e.message.split('\n')[0] : e)]); }
}

async function signIn(page, user, password) {
  await page.goto(base + '/login');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(base + '/');
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const dialogs = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss(); });
  let detailUrl;

  await test('sign in as a reviewer and see the queue', async () => {
    await signIn(page, 'alice', 'correct horse battery');
    await assert.doesNotReject(page.getByText(/Page 1 of \d+, \d+ items/).waitFor());
    assert.match(await page.locator('header').innerText(), /alice \(reviewer\)/);
    if (shots) await page.screenshot({ path: shots + '/queue.png', fullPage: false });
  });

  await test('filter by severity', async () => {
    await page.getByLabel('Severity').selectOption('critical');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/severity=critical/);
    const sev = await page.locator('table.queue tbody .sev').allInnerTexts();
    assert.ok(sev.length > 0, 'no rows');
    assert.ok(sev.every(s => s === 'critical'), 'a non-critical row: ' + sev.join(','));
  });

  await test('open a mismatch: sentence, three sources, history', async () => {
    await page.locator('table.queue tbody tr').first().getByRole('link').click();
    await page.waitForURL(/\/m\/\d+$/);
    detailUrl = page.url();
    await assert.doesNotReject(page.getByRole('heading', { name: 'The three sources' }).waitFor());
    assert.ok(await page.locator('.sentence').innerText() !== '');
    assert.match(await page.locator('table.history').innerText(), /recon\s+opened/);
    if (shots) await page.screenshot({ path: shots + '/detail.png', fullPage: true });
  });

  await test('resolve it and see the history', async () => {
    await page.getByLabel('Resolution').selectOption('written_off');
    await page.locator('#resolve-note').fill('under the write-off threshold');
    await page.getByRole('button', { name: 'Resolve' }).click();
    await page.waitForURL(/done=resolve/);
    assert.match(await page.locator('#status').innerText(), /resolved \(written_off\)/);
    const hist = await page.locator('table.history').innerText();
    assert.match(hist, /alice\s+resolved/);
    assert.match(hist, /written_off: under the write-off threshold/);
  });

  await test('a POST without the CSRF token is refused', async () => {
    const id = detailUrl.match(/\/m\/(\d+)/)[1];
    const r = await page.request.post(base + '/m/' + id + '/reopen', { form: { note: 'x' } });
    assert.equal(r.status(), 403);
    await page.reload();
    assert.match(await page.locator('#status').innerText(), /resolved/);
  });

  await test('an order id with markup renders as text', async () => {
    await page.goto(base + '/?q=script&status=all');
    const cell = page.locator('td.order').first();
    assert.equal(await cell.innerText(), '<script>alert(1)</script>"onmouseover="x');
    assert.equal(await page.evaluate(() => document.scripts.length), 0);
    await cell.hover();
    assert.deepEqual(dialogs, []);
  });

  await test('every field has a label; keyboard reaches the filters', async () => {
    await page.goto(base + '/');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(e => e.labels.length === 0).map(e => e.name));
    assert.deepEqual(unlabelled, []);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.tagName);
    assert.ok(['A', 'BUTTON', 'SELECT', 'INPUT'].includes(focused), 'focus on ' + focused);
  });

  await test('a viewer cannot resolve', async () => {
    const vctx = await browser.newContext();
    const vpage = await vctx.newPage();
    await signIn(vpage, 'vic', 'viewer password 1');
    await vpage.goto(detailUrl);
    assert.equal(await vpage.getByRole('button', { name: 'Resolve' }).count(), 0);
    assert.equal(await vpage.getByRole('button', { name: 'Reopen' }).count(), 0);
    const csrf = await vpage.locator('input[name=csrf]').first().getAttribute('value');
    const id = detailUrl.match(/\/m\/(\d+)/)[1];
    const r = await vpage.request.post(base + '/m/' + id + '/reopen', { form: { csrf, note: 'x' } });
    assert.equal(r.status(), 403);
    await vctx.close();
  });

  await test('reading works with JavaScript off', async () => {
    const nctx = await browser.newContext({ javaScriptEnabled: false });
    const npage = await nctx.newPage();
    await signIn(npage, 'vic', 'viewer password 1');
    await assert.doesNotReject(npage.getByText(/Page 1 of \d+/).waitFor());
    await npage.goto(detailUrl);
    await assert.doesNotReject(npage.getByRole('heading', { name: 'History' }).waitFor());
    await nctx.close();
  });

  await test('on a phone the queue does not scroll sideways', async () => {
    const pctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const ppage = await pctx.newPage();
    await signIn(ppage, 'vic', 'viewer password 1');
    const over = await ppage.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 1, 'overflows by ' + over + 'px');
    if (shots) await ppage.screenshot({ path: shots + '/queue-phone.png', fullPage: false });
    await pctx.close();
  });

  await browser.close();
  for (const [s, n] of results) console.log(s + ' ' + n);
  const failed = results.filter(r => r[0] === 'FAIL').length;
  console.log('e2e: ' + (results.length - failed) + ' passed, ' + failed + ' failed');
  process.exit(failed ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
