/* Sending never waits for the socket: a message is queued (the outbox, kept with the
 * draft in localStorage) and posted in order by the ordinary form POST. A network
 * failure, a timeout or a 5xx keeps it, with its client_token, for a retry with backoff
 * (1 s ... 30 s), after Retry-After on a 429, and when the socket reopens or the browser
 * is online again; the server stores one message per token, so a retry never
 * duplicates. Typing notices go on the socket. docs/live-updates.md */

let live, form, textarea, outbox, key
let recount = () => {}
const queue = [] // {body, token, reply_to}, oldest first (items saved before replies have none)
const done = new Set() // tokens answered for good
let sending = false
let retryDelay = 1000
let retryTimer = null
let lastTyping = 0

function newToken () {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('')
}

// Storage may refuse (private mode, quota). Other tabs' unanswered messages stay.
function stored () {
  try {
    const saved = JSON.parse(localStorage.getItem(key))
    if (Array.isArray(saved.q)) return saved
  } catch (e) {}
  return { q: [] }
}

function save () {
  try {
    const q = stored().q.filter(item => !done.has(item.token) && !queue.some(own => own.token === item.token)).concat(queue)
    if (q.length || textarea.value) localStorage.setItem(key, JSON.stringify({ q, d: textarea.value }))
    else localStorage.removeItem(key)
  } catch (e) {}
}

function showOutbox () {
  save()
  recount()
  outbox.textContent = ''
  for (const item of queue) {
    const li = document.createElement('li')
    // {text}: a function, so that "$&" and the like in the message stay as written.
    li.textContent = form.dataset[live.isOpen() ? 'sending' : 'waiting'].replace('{text}', () => item.body)
    outbox.append(li)
  }
  outbox.hidden = !queue.length
}

// Shown as the form's own error is (the field macro's <id>-error).
function showError (message, area = textarea) {
  const id = area.id + '-error'
  let error = document.getElementById(id)
  if (!error) {
    error = document.createElement('p')
    error.id = id
    error.className = 'error'
    area.closest('.field').append(error)
    area.setAttribute('aria-describedby', id)
  }
  error.textContent = message
  area.setAttribute('aria-invalid', 'true')
}

function clearError (area = textarea) {
  const error = document.getElementById(area.id + '-error')
  if (error) error.remove()
  delete area.dataset.long
  area.removeAttribute('aria-invalid')
  area.removeAttribute('aria-describedby')
}

// data-max: near it a count shows (politely), past it sending is refused.
function limit (area) {
  const max = area.form.dataset.max
  const lang = document.documentElement.lang || undefined // the page's, not the browser's
  const count = document.createElement('p')
  count.setAttribute('aria-live', 'polite')
  area.after(count)
  const length = () => Array.from(area.value.trim()).length // as the server counts
  const update = () => {
    const n = length()
    count.className = n > max ? 'error' : 'hint'
    count.textContent = n > max * 0.9 ? n.toLocaleString(lang) + ' / ' + (+max).toLocaleString(lang) : ''
    if (n <= max && area.dataset.long) clearError(area)
  }
  area.addEventListener('input', update)
  area.form.addEventListener('submit', event => {
    if (length() <= max) return
    event.preventDefault()
    event.stopImmediatePropagation()
    showError(area.form.dataset.tooLong, area)
    area.dataset.long = 1
  })
  update()
  return update
}

// The message a Reply link names, quoted above the box (as the server quotes it: the
// first 140 characters); none: the box hidden and emptied.
function replyTo (message) {
  const box = form.querySelector('.replying')
  if (!box.querySelector('b')) { // the page had no reply: its words are in data-*
    const made = (tag, props) => Object.assign(document.createElement(tag), { dir: 'auto' }, props)
    box.prepend(made('span', { className: 'replying-to', textContent: box.dataset.to }), ' ', made('b'), ' ',
      made('span'), ' ', made('a', { href: '#' + form.id, textContent: box.dataset.cancel }))
  }
  const text = message ? Array.from(message.querySelector('.message-body').textContent.trim()) : []
  box.querySelector('b').textContent = message ? message.querySelector('.author').textContent : ''
  box.querySelector('b + span').textContent = text.slice(0, 140).join('').trim() + (text.length > 140 ? '…' : '')
  form.elements.reply_to.value = message ? message.dataset.seq : ''
  box.hidden = !message
  textarea.focus()
}

function retryLater () {
  clearTimeout(retryTimer)
  retryTimer = setTimeout(flush, retryDelay)
  retryDelay = Math.min(retryDelay * 2, 30000)
}

// One at a time, in order.
function flush () {
  if (sending || !queue.length) return
  clearTimeout(retryTimer)
  retryTimer = null
  sending = true
  const item = queue[0]
  fetch(form.getAttribute('action'), {
    method: 'POST',
    headers: { 'X-CSRF-Token': form.elements.csrf_token.value, 'HX-Request': 'true' },
    body: new URLSearchParams({ body: item.body, client_token: item.token, reply_to: item.reply_to || '' }),
    signal: AbortSignal.timeout && AbortSignal.timeout(live.patience)
  }).then(response => {
    const status = response.status
    if (response.ok) {
      done.add(queue.shift().token)
      retryDelay = 1000
    } else if (status === 422 || status === 413 || status === 403) {
      done.add(queue.shift().token)
      if (!textarea.value) textarea.value = item.body
      // The server's words: the page's composer error (422) or the error fragment.
      return response.text().then(html => {
        const page = new DOMParser().parseFromString(html, 'text/html')
        showError((page.getElementById(textarea.id + '-error') || page.body).textContent.trim())
      }, () => {})
    } else {
      // 429, sending too fast: keep the message and resend when the server says.
      if (status === 429) retryDelay = Math.max(1, Number(response.headers.get('Retry-After')) || 1) * 1000
      retryLater()
    }
  }, retryLater).then(() => {
    sending = false
    showOutbox()
    if (queue.length && !retryTimer) flush()
  })
}

export function start (core) {
  live = core
  for (const area of document.querySelectorAll('form[data-max] textarea')) recount = limit(area)
  form = document.querySelector('form.composer')
  if (!form) return
  textarea = form.elements.body
  outbox = document.querySelector('.outbox')
  key = 'vibechat-outbox-' + document.body.dataset.me + '-' + form.dataset.chat
  const saved = stored()
  queue.push(...saved.q)
  if (!textarea.value && saved.d) textarea.value = saved.d
  form.addEventListener('submit', event => {
    event.preventDefault()
    if (live.isGone()) return
    if (!textarea.value.trim()) return showError(form.dataset.empty)
    clearError()
    queue.push({ body: textarea.value, token: form.elements.client_token.value, reply_to: form.elements.reply_to.value })
    form.elements.client_token.value = newToken()
    textarea.value = ''
    replyTo()
    showOutbox()
    flush()
  })
  // On touch screens (no Shift+Enter) Enter adds a line; the Send button sends.
  textarea.addEventListener('keydown', event => {
    if (event.defaultPrevented) return // js/mentions.js took the key
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing &&
        (event.ctrlKey || event.metaKey || !matchMedia('(pointer: coarse)').matches)) {
      event.preventDefault()
      form.requestSubmit()
    }
  })
  textarea.addEventListener('input', () => {
    save()
    if (Date.now() - lastTyping > 3000 && live.send({ typing: Number(form.dataset.chat) })) lastTyping = Date.now()
  })
  // Reply (a message of this chat) and Cancel without a page load.
  document.addEventListener('click', event => {
    const link = event.target.closest('.actions a[href*="reply_to="], .replying a')
    const message = link && link.closest('.message')
    if (!link || (message && message.dataset.chat !== form.dataset.chat)) return
    event.preventDefault()
    replyTo(message)
  })
  // A reaction button's toggle goes in the background; its message's frame shows it.
  // Refused (a deleted message, too many): the reaction page says why.
  // Heard on the document: a page renders #react only while a message has a reaction,
  // and frames bring new ones.
  document.addEventListener('click', event => {
    const button = event.target.closest('.reactions button')
    if (!button) return
    event.preventDefault()
    const url = button.getAttribute('formaction')
    fetch(url, {
      method: 'POST',
      headers: { 'X-CSRF-Token': form.elements.csrf_token.value, 'HX-Request': 'true' },
      body: new URLSearchParams({ emoji: button.value })
    }).then(response => response.ok || location.assign(url), () => {})
  })
  document.body.addEventListener('htmx:wsOpen', flush)
  addEventListener('online', flush)
  showOutbox()
  flush()
  // The chat was deleted, or we were removed: stop writing to it.
  document.body.addEventListener('vibechat:frames', () => {
    if (live.isGone()) for (const control of form.querySelectorAll('textarea, button')) control.disabled = true
  })
}
