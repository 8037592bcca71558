// Merged by Evidence into its own SvelteKit config. Prerender every page in pages/ and the company pages that
// `subsidy dashboards build` lists in .company-pages.json (the largest beneficiaries), instead of crawling
// one page per beneficiary: every other company page renders in the browser from the same data, through the
// SPA fallback page (404.html), which `subsidy dashboards serve` returns for any path it has no file for.
import fs from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
import adapter from '@sveltejs/adapter-static';

const here = path.dirname(fileURLToPath(import.meta.url));
const listFile = path.join(here, '.company-pages.json');
const companyPages = fs.existsSync(listFile) ? JSON.parse(fs.readFileSync(listFile, 'utf-8')) : [];

/** Routes of the markdown pages (templated pages such as companies/[beneficiary].md excepted). */
function pageRoutes(dir, prefix = '') {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		if (entry.isDirectory()) return pageRoutes(path.join(dir, entry.name), `${prefix}/${entry.name}`);
		if (!entry.name.endsWith('.md') || entry.name.includes('[')) return [];
		const name = entry.name.slice(0, -'.md'.length);
		return [name === 'index' ? prefix || '/' : `${prefix}/${name}`];
	});
}

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
				...pageRoutes(path.join(here, 'pages')),
				// Evidence's own prerendered routes, found by crawling otherwise
				'/fix-tprotocol-service-worker.js',
				'/manifest.webmanifest',
				...companyPages
			]
		}
	}
};
