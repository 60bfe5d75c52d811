// HTML_CodeSniffer through pa11y over many pages, in one Node process and one Chromium.
// Called by tests/support/checkers.py: reads a job as JSON on stdin, prints the issues
// as JSON on stdout. The job:
//   {chromium, args, timeout, pages: [{name, url, cookies: [{name, value}], actions}]}
// Each page gets a browser context of its own (its cookies, nothing left from the last).
// The browser is Debian's Chromium, never one that puppeteer downloads: the packages in
// tools/ are installed with --ignore-scripts (Makefile), so none is ever fetched.
'use strict'

const path = require('path')
const { createRequire } = require('module')

const tools = createRequire(path.join(__dirname, '..', '..', 'tools', 'package.json'))
const pa11y = tools('pa11y')
const puppeteer = tools('puppeteer')

async function read (stream) {
  let text = ''
  for await (const chunk of stream) text += chunk
  return JSON.parse(text)
}

async function check (browser, job, page) {
  const context = await browser.createBrowserContext()
  try {
    if (page.cookies.length) {
      await context.setCookie(...page.cookies.map(c => ({ ...c, domain: new URL(page.url).hostname, path: '/' })))
    }
    const tab = await context.newPage()
    const result = await pa11y(page.url, {
      browser,
      page: tab,
      runners: ['htmlcs'],
      standard: 'WCAG2AA',
      includeWarnings: true,
      actions: page.actions || [],
      timeout: job.timeout,
      log: { debug () {}, info () {}, error (line) { process.stderr.write(`${line}\n`) } }
    })
    return { name: page.name, url: result.pageUrl, title: result.documentTitle, issues: result.issues }
  } finally {
    await context.close()
  }
}

async function main () {
  const job = await read(process.stdin)
  const browser = await puppeteer.launch({
    executablePath: job.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', ...job.args]
  })
  try {
    const results = []
    for (const page of job.pages) results.push(await check(browser, job, page))
    process.stdout.write(JSON.stringify(results))
  } finally {
    await browser.close()
  }
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`)
  process.exit(1)
})
