// landing: what Offline Pixel is, for someone who is not signed in. (A
// fuller page with the framework figures is on its way.)
import { h, mount } from '../dom.js';

export default async function render(view) {
  mount(view,
    h('section', { class: 'hero' },
      h('h1', 'Hire async Python engineers who have proven it'),
      h('p', 'A ranked, explained shortlist the second you ask; a match within 8 hours; money held in escrow until you approve.'),
      h('div', { class: 'actions' },
        h('a', { class: 'btn btn-primary', href: '/signup?role=client' }, 'Raise a request'),
        h('a', { class: 'btn', href: '/signup?role=engineer' }, 'Apply as an engineer'))),
    h('h2', 'How it works'),
    h('ol', { class: 'steps' },
      h('li', h('strong', 'Raise a request'), h('p', 'Frameworks, must-have skills, budget, time zone.')),
      h('li', h('strong', 'Talk to experts'), h('p', 'A shortlist at once; a match within 8 hours.')),
      h('li', h('strong', 'Fund'), h('p', 'Each milestone into escrow.')),
      h('li', h('strong', 'Expert works'), h('p', 'Milestones or weekly timesheets.')),
      h('li', h('strong', 'Approve'), h('p', 'Release the payment, or dispute.'))));
}
