/** Refuses any database whose name does not say it is a test database. */
export function assertTestDatabaseName(databaseUrl: string): void {
  const name = new URL(databaseUrl).pathname.replace(/^\//, '');
  if (!/(^|_)test(_|$)/.test(name)) {
    throw new Error(`Refusing to run tests on database "${name}": its name must contain "test".`);
  }
}

export function databaseUrlWithName(serverUrl: string, databaseName: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${databaseName}`;
  return url.toString();
}
