/* Sending never waits for the socket: a message is queued (the outbox shows it) and
 * posted in order by the ordinary form POST. A network failure, a timeout or a 5xx
 * keeps it, with its client_token, for a retry with backoff (1 s ... 30 s), after
 * Retry-After on a 429, and when the socket reopens or the browser is online again;
 * the server stores one message per token, so a retry never duplicates. The queue and
 * the draft are kept in localStorage per person and chat, so they outlive the tab and
 * are sent on the next visit. Typing notices go on the socket. */

let live, form, textarea, outbox, key
let recount = () => {}
const queue = [] // {body, token}, oldest first
const done = new Set() // tokens the server has answered for good
let sending = false
let retryDelay = 1000
let retryTimer = null
let lastTyping = 0

function newToken () {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b => b.toString(16).padStart(2, '0')).join('')
}

// Another tab of this chat may have its own queue stored: what this one has not
// answered is kept beside its own. Storage may refuse (private mode, quota): sending
// goes on without it.
function stored () {
  try {
    const saved = JSON.parse(localStorage.getItem(key))
    return Array.isArray(saved.q) ? saved : { q: [] }
  } catch (e) {
    return { q: [] }
  }
}

function save () {
  try {
    const kept = stored().q.filter(item => !done.has(item.token) && !queue.some(own => own.token === item.token))
    const all = kept.concat(queue)
    if (all.length || textarea.value) localStorage.setItem(key, JSON.stringify({ q: all, d: textarea.value }))
    else localStorage.removeItem(key)
  } catch (e) {}
}

function showOutbox () {
  save()
  recount()
  outbox.textContent = ''
  for (const item of queue) {
    const li = document.createElement('li')
    li.textContent = (live.isOpen() ? 'Sending: ' : 'Waiting for the connection: ') + item.body
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
  area.removeAttribute('aria-invalid')
  area.removeAttribute('aria-describedby')
}

// A message form with data-max: text is never cut (no maxlength). Near the limit a
// count shows ("4,012 / 4,000", announced politely); past it sending is refused with
// the form's data-too-long. The server counts characters after trimming, and so do we.
function limit (area) {
  const max = Number(area.form.dataset.max)
  const count = document.createElement('p')
  count.setAttribute('aria-live', 'polite')
  area.after(count)
  let refused = false
  const length = () => Array.from(area.value.trim()).length
  const update = () => {
    const n = length()
    count.className = n > max ? 'error' : 'hint'
    count.textContent = n > max * 0.9 ? n.toLocaleString() + ' / ' + max.toLocaleString() : ''
    if (refused && n <= max) {
      refused = false
      clearError(area)
    }
  }
  area.addEventListener('input', update)
  area.form.addEventListener('submit', event => {
    if (length() <= max) return
    event.preventDefault()
    event.stopImmediatePropagation()
    refused = true
    showError(area.form.dataset.tooLong, area)
  })
  update()
  return update
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
    body: new URLSearchParams({ body: item.body, client_token: item.token }),
    // A post lost in a network that says nothing is given up and sent again.
    signal: AbortSignal.timeout && AbortSignal.timeout(live.patience)
  }).then(response => {
    const status = response.status
    if (response.ok) {
      done.add(queue.shift().token)
      retryDelay = 1000
    } else if (status === 422 || status === 413 || status === 403) {
      done.add(queue.shift().token)
      if (!textarea.value) textarea.value = item.body
      // The server's own words: the composer's error in the page it sent back (422),
      // or its error fragment.
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
  // What an earlier visit left: sent now, exactly once (the tokens see to that).
  key = 'vibechat-outbox-' + document.body.dataset.me + '-' + form.dataset.chat
  const saved = stored()
  queue.push(...saved.q)
  if (!textarea.value && saved.d) textarea.value = saved.d
  form.addEventListener('submit', event => {
    event.preventDefault()
    if (live.isGone()) return
    if (!textarea.value.trim()) return showError('Write a message first.')
    clearError()
    queue.push({ body: textarea.value, token: form.elements.client_token.value })
    form.elements.client_token.value = newToken()
    textarea.value = ''
    textarea.focus()
    showOutbox()
    flush()
  })
  // Enter sends where there is a keyboard to type Shift+Enter on; on a touch screen,
  // whose keyboard has no Shift+Enter, it adds a line and the Send button sends.
  // Ctrl or Cmd+Enter sends on either.
  textarea.addEventListener('keydown', event => {
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
  document.body.addEventListener('htmx:wsOpen', flush)
  addEventListener('online', flush)
  showOutbox()
  flush()
  // The chat was deleted, or we were removed: stop writing to it.
  document.body.addEventListener('vibechat:frames', () => {
    if (live.isGone()) for (const control of form.querySelectorAll('textarea, button')) control.disabled = true
  })
}
