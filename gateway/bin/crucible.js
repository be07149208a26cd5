#!/usr/bin/env node
// The npm bin: a committed, executable entry (a built file would lose its mode on a fresh build).
import "../dist/cli/main.js";
