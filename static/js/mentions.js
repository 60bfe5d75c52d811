/* Typing @ offers the chat's members: "@" and the start of a username or display name
 * before the caret lists the matching members of the page's member list (frames keep it
 * current), as the APG combobox does for a text field. Arrows move, Enter or Tab puts
 * "@username " in place of the word, Escape closes; focus stays in the box
 * (aria-activedescendant). The box stays a multi-line textbox, on which ARIA allows no
 * aria-expanded: the polite status says how many members are offered, 0 included.
 * Imported on the box's first focus (app.js), after composer.js has its Enter: the keys
 * are heard on the form, in the capture phase, so a key taken here (preventDefault)
 * never sends. */

let area, list, status
let found = [] // [username, display name], at most 8
let active = 0

// The @word before the caret: [all, the space or '' before it, what follows the @].
const word = () => /(^|\s)@(\S*)$/.exec(area.value.slice(0, area.selectionEnd))

function show (i) {
  active = i
  list.hidden = !found.length
  list.replaceChildren(...found.map(([username, name], j) => Object.assign(document.createElement('li'), {
    id: list.id + j, role: 'option', ariaSelected: i === j, textContent: name + ' @' + username
  })))
  if (found.length) area.setAttribute('aria-activedescendant', list.id + i)
  else area.removeAttribute('aria-activedescendant')
}

function close () {
  found = []
  show(0)
}

function update () {
  const typed = word()
  found = []
  for (const li of typed ? document.querySelectorAll('.member-list .member') : []) {
    const member = [li.querySelector('.member-username').textContent.slice(1), li.querySelector('.member-name').textContent]
    if (found.length < 8 && li.dataset.user !== document.body.dataset.me &&
        member.some(name => name.toLowerCase().startsWith(typed[2].toLowerCase()))) found.push(member)
  }
  const n = found.length
  const words = typed ? status.dataset[new Intl.PluralRules(document.documentElement.lang).select(n)].replace('{n}', n) : ''
  if (status.textContent !== words) status.textContent = words // said once
  show(0)
}

function insert () {
  const typed = word()
  const end = area.selectionEnd
  if (typed) area.setRangeText('@' + found[active][0] + ' ', end - typed[2].length - 1, end, 'end')
  area.dispatchEvent(new Event('input')) // the draft is kept; the list closes
}

export function start () {
  area = document.querySelector('form.composer textarea[name=body]')
  status = document.querySelector('.mentions-status')
  if (!status) return
  list = Object.assign(document.createElement('ul'), {
    id: area.id + '-mention-', className: 'mentions', hidden: true, role: 'listbox', ariaLabel: status.dataset.label
  })
  area.after(list)
  area.ariaAutoComplete = 'list'
  area.ariaHasPopup = 'listbox'
  area.setAttribute('aria-controls', list.id)
  area.addEventListener('input', update)
  area.addEventListener('blur', close)
  area.form.addEventListener('keydown', event => {
    const n = found.length
    if (event.target !== area) return
    const key = event.key
    if (!n || event.isComposing) return
    if (key === 'ArrowDown') show((active + 1) % n)
    else if (key === 'ArrowUp') show((active + n - 1) % n)
    else if ((key === 'Enter' || key === 'Tab') && !event.shiftKey) insert()
    else if (key === 'Escape') close()
    else return
    event.preventDefault()
  }, true)
  // Pressing an option would take the focus from the box (and close the list).
  list.addEventListener('mousedown', event => event.preventDefault())
  list.addEventListener('click', event => {
    active = [...list.children].indexOf(event.target.closest('li'))
    if (active >= 0) insert()
  })
  update() // what was typed while this module was on its way
}
