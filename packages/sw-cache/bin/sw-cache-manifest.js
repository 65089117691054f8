#!/usr/bin/env node
// A committed launcher for the built CLI: it exists before the first build, so installing the
// workspace links the command without a warning.
import '../dist/manifest-cli.js'
