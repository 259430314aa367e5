/** What can fly through a scene. */
export const OBJECT_KINDS = ['drone', 'bird', 'plane'] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];
