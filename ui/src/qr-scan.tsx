import { useEffect, useRef, useState } from 'preact/hooks'
import jsQR from 'jsqr'

/** What a user ID looks like ("cs1" + base32): anything else in a QR code is not taken. */
const USER_ID = /^cs1[a-z2-7]{20,}$/i
const SCAN_EVERY_MS = 200

/**
 * Reads a contact's ID from the QR code their screen shows (`Show my ID as a
 * QR code`), with this computer's camera: frames are drawn to a canvas and
 * decoded by jsQR, all in the page; nothing is sent anywhere. The camera
 * stops as soon as an ID is read, or the user closes the scanner.
 */
export function QrScanner ({ onId, onClose }: { onId: (id: string) => void, onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null)
  const [message, setMessage] = useState('Starting the camera…')
  useEffect(() => {
    let stream: MediaStream | undefined
    let timer: ReturnType<typeof setInterval> | undefined
    let stopped = false
    const canvas = document.createElement('canvas')
    const stop = (): void => { stopped = true; clearInterval(timer); for (const t of stream?.getTracks() ?? []) t.stop() }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } }).then(async (s) => {
      stream = s
      if (stopped || video.current == null) { stop(); return }
      video.current.srcObject = s
      await video.current.play()
      setMessage('Hold the QR code of their ID up to the camera.')
      timer = setInterval(() => {
        const v = video.current
        if (v == null || v.videoWidth === 0) return
        canvas.width = v.videoWidth
        canvas.height = v.videoHeight
        const ctx = canvas.getContext('2d', { willReadFrequently: true })
        if (ctx == null) return
        ctx.drawImage(v, 0, 0)
        const code = jsQR(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height)
        if (code == null) return
        if (!USER_ID.test(code.data)) { setMessage('That QR code does not hold a cspace ID.'); return }
        stop()
        onId(code.data)
      }, SCAN_EVERY_MS)
    }, (err: Error) => setMessage(`No camera: ${err.message}. Paste the ID instead.`))
    return stop
  }, [])
  return (
    <div class="qr-scan">
      <video ref={video} muted playsInline aria-label="Camera view" />
      <p role="status">{message}</p>
      <button type="button" onClick={onClose}>Stop scanning</button>
    </div>
  )
}
