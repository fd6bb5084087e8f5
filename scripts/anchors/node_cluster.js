// node_cluster.js: the seeds' Node.js cluster, used as an anchor by scripts/anchors.sh.
//
// Usage: node node_cluster.js PORT WORKERS
//
// The primary forks WORKERS workers with the `cluster` module; each runs
// `http.createServer` answering "hello" on 127.0.0.1:PORT. The scheduling
// policy is Node's default (on Linux SCHED_RR: the primary accepts every
// connection and hands it to the next worker), as in the seeds. Once every
// worker listens, the primary prints one line, the same as `pvt serve`:
//     ready port=PORT pid=PRIMARY_PID
// SIGTERM or SIGINT to the primary stops the workers and then the primary; a
// worker still alive after a bounded wait is killed, so a stop always ends.
'use strict';

const cluster = require('node:cluster');
const http = require('node:http');

const port = Number(process.argv[2]);
const workers = Number(process.argv[3]);
const STOP_WAIT_MS = 3000;

if (!Number.isInteger(port) || port <= 0 || port > 65535 || !Number.isInteger(workers) ||
    workers < 1) {
    console.error('usage: node node_cluster.js PORT WORKERS');
    process.exit(2);
}

if (cluster.isPrimary) {
    let listening = 0;
    let stopping = false;

    cluster.on('listening', () => {
        listening += 1;
        if (listening === workers)
            console.log(`ready port=${port} pid=${process.pid}`);
    });
    cluster.on('exit', (worker, code, signal) => {
        // No respawn: the anchor is measured as the seeds run it, and a
        // worker that dies outside a stop is an error the script must see.
        if (!stopping)
            console.error(`worker ${worker.process.pid} died (code ${code}, signal ${signal})`);
        if (Object.keys(cluster.workers).length === 0)
            process.exit(stopping ? 0 : 1);
    });

    const stop = () => {
        if (stopping)
            return;
        stopping = true;
        for (const w of Object.values(cluster.workers))
            w.process.kill('SIGTERM');
        setTimeout(() => {
            for (const w of Object.values(cluster.workers))
                w.process.kill('SIGKILL');
            process.exit(1);
        }, STOP_WAIT_MS).unref();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    for (let i = 0; i < workers; i++)
        cluster.fork();
} else {
    http.createServer((req, res) => {
        res.end('hello\n');
    }).listen(port, '127.0.0.1');
}
