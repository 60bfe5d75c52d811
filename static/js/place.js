/* Where a frame's element goes when the page has none with its id: the lists say, in
 * attributes the server renders (docs/live-updates.md): data-holds (a selector of what
 * belongs), data-order (the data-* key, "-" for largest first; none: at the end),
 * data-more-before (while it matches, the list shows only the newest: nothing goes
 * before its first), data-more-after (while it matches, the list shows a stretch
 * before the newest, ?around=: nothing goes after its last) and data-empty (the note hidden once one arrives).
 * A hidden stand-in goes there and htmx's swap by id replaces it. Elements that no list
 * here holds (frames meant for other pages) are parked out of sight and dropped; the
 * body hears of each (vibechat:parked, the element in detail). */

const sink = document.createElement('div')
sink.hidden = true

function order (list) {
  const by = list.dataset.order || ''
  return { by, name: 'data-' + by.replace('-', ''), sign: by[0] === '-' ? -1 : 1 }
}

// The child of list that element goes before (null: at the end), or undefined when the
// list does not take it; `self`, when it is in the list already, does not count.
function spot (list, element, self) {
  const { by, name, sign } = order(list)
  if (!by) return null
  const key = Number(element.getAttribute(name))
  const items = Array.from(list.children).filter(item => item !== self && item.hasAttribute(name))
  const next = items.find(item => sign * (item.getAttribute(name) - key) >= 0)
  const more = list.dataset.moreBefore
  if (next && next === items[0] && more && document.querySelector(more)) return undefined
  const moreAfter = list.dataset.moreAfter
  if (!next && moreAfter && document.querySelector(moreAfter)) return undefined
  return next || null
}

// Before htmx swaps a frame (from the socket or a catch-up) in: a stand-in where each
// new element goes. Returns the frame's elements.
export function place (html) {
  const template = document.createElement('template')
  template.innerHTML = html
  const elements = Array.from(template.content.children).filter(element => element.id)
  for (const element of elements) {
    if (document.getElementById(element.id)) continue // replaced where it is
    const stub = document.createElement(element.tagName)
    stub.id = element.id
    stub.hidden = true
    const list = Array.from(document.querySelectorAll('[data-holds]'))
      .find(list => element.matches(list.dataset.holds))
    const next = list ? spot(list, element) : undefined
    if (next === undefined) {
      sink.append(stub)
      document.body.dispatchEvent(new CustomEvent('vibechat:parked', { detail: element }))
      continue
    }
    const { by, name } = order(list)
    if (by) stub.setAttribute(name, element.getAttribute(name)) // for the rest of the frame
    list.insertBefore(stub, next)
    const empty = list.dataset.empty && document.querySelector(list.dataset.empty)
    if (empty) empty.hidden = true
  }
  return elements
}

// An element whose order key changed moves where it now belongs.
export function reorder (element) {
  const next = spot(element.parentNode, element, element)
  if (next !== undefined) element.parentNode.insertBefore(element, next)
}

export function dropParked () {
  sink.textContent = ''
}

export function start () {
  document.body.append(sink)
  // An older version never replaces a newer one (data-rev), in whatever order a frame
  // and a catch-up answer arrive.
  document.body.addEventListener('htmx:oobBeforeSwap', event => {
    const target = event.detail.target
    const incoming = event.detail.fragment && event.detail.fragment.firstElementChild
    if (incoming && !target.hidden && incoming.hasAttribute('data-rev') &&
        incoming.dataset.rev - target.dataset.rev < 0) event.detail.shouldSwap = false
  })
}
