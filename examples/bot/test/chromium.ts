// The repository's one Chromium launcher, under the name this example's test and screenshot use.
export { launchPersistentChromium as launchChromium } from '../../../test/chromium.js'
