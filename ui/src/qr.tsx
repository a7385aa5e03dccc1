import QRCode from 'qrcode'

/**
 * A QR code of `text` as inline SVG (drawn by Preact: no data URL, no
 * inline style, so the page's CSP holds): one path of dark modules, with
 * the four-module quiet zone scanners need.
 */
export function QrCode ({ text, label }: { text: string, label: string }) {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules
  const quiet = 4
  let d = ''
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) if (data[y * size + x] !== 0) d += `M${x + quiet} ${y + quiet}h1v1h-1z`
  }
  const side = size + 2 * quiet
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${side} ${side}`} shape-rendering="crispEdges">
      <rect width={side} height={side} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  )
}
