import { render } from 'preact'
import { App } from './app'
import './style.css'

/** The cspace web UI: a client of the daemon's local API, like the `cspace` command. */
render(<App />, document.getElementById('app')!)
