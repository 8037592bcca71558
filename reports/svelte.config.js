// Merged by Evidence into its own SvelteKit config. Prerender the fixed pages and the company pages that
// `subsidy dashboards build` lists in .company-pages.json (the largest beneficiaries), instead of crawling
// one page per beneficiary: every other company page renders in the browser from the same data, through the
// SPA fallback page (404.html), which `subsidy dashboards serve` returns for any path it has no file for.
import fs from 'fs';
import adapter from '@sveltejs/adapter-static';

const listFile = new URL('./.company-pages.json', import.meta.url);
const companyPages = fs.existsSync(listFile) ? JSON.parse(fs.readFileSync(listFile, 'utf-8')) : [];

export default {
	kit: {
		adapter: adapter({
			pages: process.env.EVIDENCE_BUILD_DIR ?? './build',
			strict: false,
			fallback: '404.html'
		}),
		prerender: {
			crawl: false,
			entries: [
				'/', '/years', '/bureaus', '/measures', '/companies', '/findings', '/quality',
				// Evidence's own prerendered routes, found by crawling otherwise
				'/fix-tprotocol-service-worker.js', '/manifest.webmanifest',
				...companyPages
			]
		}
	}
};
