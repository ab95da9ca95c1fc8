package k6

import "strings"

// The JavaScript helpers a script may need; helpers writes those its
// journeys and scenarios use.

const jsIteration = `// iteration returns what the steps of one iteration share: its phase (the
// tag phase thresholds select), the variables its steps extract, and the
// seeded user it logs in as. Iteration k of VU v is user
// (v*7919 + k) mod count + 1, the harness's spread over the users.
function iteration(phase) {
  let user = null;
  if (USERS !== null) {
    const index = ((exec.vu.idInTest * 7919 + exec.vu.iterationInScenario) % USERS.count) + 1;
    user = {
      index: index,
      email: USERS.prefix + "-" + String(index).padStart(6, "0") + "@example.com",
      password: USERS.password,
    };
  }
  return { phase: phase, vars: {}, user: user };
}

// tagIteration tags what the VU emits from now on with the iteration's
// journey and phase, as the harness tags an iteration: k6 stamps
// iteration_duration with the VU's tags as the iteration ends, so
// thresholds on iteration_duration{journey:...} select as in the harness.
// The phase is removed when there is none: a VU may come from another
// scenario's iterations.
function tagIteration(it, journey) {
  const tags = exec.vu.metrics.tags;
  tags.journey = journey;
  if (it.phase !== "") {
    tags.phase = it.phase;
  } else {
    delete tags.phase;
  }
}

// tagsOf returns the tags of a step's request and check: the endpoint
// that thresholds select (http_req_duration{endpoint:list}), the journey
// and step, and the phase only when there is one, as in the harness.
function tagsOf(it, journey, step, endpoint) {
  const tags = { journey: journey, step: step, endpoint: endpoint };
  if (it.phase !== "") {
    tags.phase = it.phase;
  }
  return tags;
}

// pick returns the journey of iteration n of a scenario, from the runs of
// [end, journey] of one cycle of its weights.
function pick(runs, n) {
  const at = n % runs[runs.length - 1][0];
  for (const [end, journey] of runs) {
    if (at < end) {
      return journey;
    }
  }
  return runs[runs.length - 1][1];
}
`

const jsUserIn = `
// userIn returns the seeded user of this iteration among users from to
// to, both included, for a journey the file gives users of its own: the
// same spread over that range, from + (v*7919 + k) mod (to-from+1).
function userIn(from, to) {
  const index = from + ((exec.vu.idInTest * 7919 + exec.vu.iterationInScenario) % (to - from + 1));
  return {
    index: index,
    email: USERS.prefix + "-" + String(index).padStart(6, "0") + "@example.com",
    password: USERS.password,
  };
}
`

const jsPhaseAt = `
// phaseAt returns the phase of the stage the scenario is in, from the time
// since it started: the harness tags an iteration with the phase of its
// start. An arrival-rate iteration due at the very end belongs to the last
// stage, as in the harness. (Approximate: k6's clock at the iteration's
// actual start, to the millisecond, where the harness uses its schedule.)
function phaseAt(stages, open) {
  let elapsed = Date.now() - exec.scenario.startTime;
  const end = stages[stages.length - 1][0];
  if (open && elapsed >= end) {
    elapsed = end - 1e-6;
  }
  for (const [until, phase] of stages) {
    if (elapsed < until) {
      return phase;
    }
  }
  return "";
}
`

const jsExtract = `
// extract keeps value as the iteration's variable name, a string as the
// harness writes it (objects and arrays as JSON). Nothing, or null, ends
// the journey and counts in extract_failures.
function extract(it, tags, name, value) {
  if (value === undefined || value === null) {
    extractFailures.add(1, tags);
    return false;
  }
  it.vars[name] = typeof value === "object" ? JSON.stringify(value) : String(value);
  return true;
}

// json reads a dotted path ("tasks.0._id") from the JSON answer with
// res.json(path); nothing when the answer is not JSON.
function json(res, path) {
  try {
    return res.json(path);
  } catch (e) {
    return undefined;
  }
}
`

const jsWalk = `
// walk reads a dotted path from the JSON answer key by key, as the harness
// does, for a path GJSON (res.json(path)) would read otherwise: objects by
// key, arrays by index.
function walk(res, path) {
  let cur;
  try {
    cur = res.json();
  } catch (e) {
    return undefined;
  }
  for (const part of path.split(".")) {
    if (Array.isArray(cur)) {
      if (!/^[0-9]+$/.test(part)) {
        return undefined;
      }
      cur = cur[Number(part)];
    } else if (cur !== null && typeof cur === "object" && Object.prototype.hasOwnProperty.call(cur, part)) {
      cur = cur[part];
    } else {
      return undefined;
    }
  }
  return cur;
}
`

const jsUUID = `
// uuidv4 returns a random (version 4) UUID: {{uuid}} is a new one at every
// use, as in the harness. Math.random is enough for test data, and works
// in every k6 version.
function uuidv4() {
  return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
  });
}
`

// helpers writes the helpers the script uses.
func (g *gen) helpers(b *strings.Builder) {
	b.WriteString(jsIteration)
	if g.usesUserIn {
		b.WriteString(jsUserIn)
	}
	if g.usesPhases {
		b.WriteString(jsPhaseAt)
	}
	if g.usesExtract {
		b.WriteString(jsExtract)
	}
	if g.usesWalk {
		b.WriteString(jsWalk)
	}
	if g.usesUUID {
		b.WriteString(jsUUID)
	}
	b.WriteString("\n")
}
