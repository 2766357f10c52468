// CHANGELOG lines as @changesets/changelog-git writes them, except that a
// package bumped because its dependencies were gets one "Updated dependencies"
// entry listing them, instead of one such line per changeset behind the bump.
const git = require('@changesets/cli/changelog').default;

module.exports = {
  getReleaseLine: git.getReleaseLine,
  async getDependencyReleaseLine(_changesets, dependenciesUpdated) {
    if (dependenciesUpdated.length === 0) return '';
    const list = dependenciesUpdated.map((d) => `  - ${d.name}@${d.newVersion}`);
    return ['- Updated dependencies', ...list].join('\n');
  },
};
