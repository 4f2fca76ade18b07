/**
 * A cell's HTML made unable to navigate. The frame's sandbox already stops
 * scripts, forms, popups and navigating the page; what it allows is the
 * frame navigating itself, which markup alone can do: a meta refresh, or a
 * link the reader clicks (resolved against a base href, in HTML, SVG or
 * MathML). Those are taken out here, in a document parsed as the frame will
 * parse it (scripting off, so <noscript> content counts too); everything
 * else is kept, so tables, styles and SVG render as they would.
 *
 * The result is parsed once more and checked: markup that reparses into
 * something else (mutation tricks) is cleaned again, and if it still holds a
 * way out after a few rounds, the frame gets a note instead.
 */

const SVG = 'http://www.w3.org/2000/svg'
const MATHML = 'http://www.w3.org/1998/Math/MathML'
const ROUNDS = 3
const REFUSED = '<p>This HTML output could not be shown safely.</p>'

/** Every element, also inside templates: the frame turns `<template shadowrootmode>` into live shadow trees. */
function allElements(root: ParentNode): Element[] {
  return [...root.querySelectorAll('*')].flatMap((el) => (el instanceof HTMLTemplateElement ? [el, ...allElements(el.content)] : [el]))
}

/** What can navigate without a script: refresh metas, base, links and image-map areas, MathML's href. */
function waysOut(doc: Document): Element[] {
  return allElements(doc).filter((el) => {
    const name = el.localName
    if (name === 'meta') return el.getAttribute('http-equiv')?.trim().toLowerCase() === 'refresh'
    return name === 'base' || name === 'a' || name === 'area' || (el.namespaceURI === MATHML && el.hasAttribute('href'))
  })
}

/** The attributes that make a link go somewhere. */
const LINK_ATTRIBUTES = new Set(['href', 'xlink:href', 'target', 'ping', 'download'])

/** Takes each way out away: a link becomes a plain element with its content and looks (span, or g in SVG). */
function closeWaysOut(found: readonly Element[]): void {
  for (const el of found) {
    const doc = el.ownerDocument
    if (el.localName === 'a') {
      const plain = el.namespaceURI === SVG ? doc.createElementNS(SVG, 'g') : doc.createElement(el.namespaceURI === MATHML ? 'mrow' : 'span')
      // Moved as nodes: names the parser accepts may be names setAttribute refuses.
      for (const attr of [...el.attributes]) {
        el.removeAttributeNode(attr)
        if (!LINK_ATTRIBUTES.has(attr.name)) plain.setAttributeNode(attr)
      }
      plain.append(...el.childNodes)
      el.replaceWith(plain)
    } else if (el.namespaceURI === MATHML && el.localName !== 'base' && el.localName !== 'area') {
      el.removeAttribute('href')
    } else {
      el.remove()
    }
  }
}

/**
 * The document to give the frame as srcdoc: `prelude` (trusted: charset,
 * CSP, base styles) then the cell's HTML, with every way out taken away.
 *
 * @example inertDocument(PRELUDE, '<meta http-equiv="refresh" content="0;url=https://elsewhere/"><b>hi</b>') // '<!DOCTYPE html><html><head>…</head><body><b>hi</b></body></html>'
 */
export function inertDocument(prelude: string, html: string): string {
  const parser = new DOMParser()
  let source = prelude + html
  for (let round = 0; round < ROUNDS; round++) {
    const doc = parser.parseFromString(source, 'text/html')
    const found = waysOut(doc)
    if (found.length === 0) return source
    closeWaysOut(found)
    source = `<!doctype html>${doc.documentElement.outerHTML}`
  }
  return waysOut(parser.parseFromString(source, 'text/html')).length === 0 ? source : prelude + REFUSED
}
