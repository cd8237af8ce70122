/**
 * What the gateway may assert upstream as an identity (`x-bulwark-subject`, `x-bulwark-roles`).
 * The values come from credentials (a token's claims, a key's record, a certificate), so each is
 * checked to be exactly one value that every HTTP stack reads back unchanged; a credential
 * carrying anything else is refused rather than re-encoded, because an upstream that splits,
 * trims or decodes differently would see another identity.
 */

/**
 * One role: RFC 9110 token characters plus `:` `/` `@` (URI-like role names), at most 256. No
 * comma (the list separator), no `;` or `"` (structured-field syntax), no whitespace (parsers trim
 * it at the edges, so ` admin` would become `admin`), no control or non-ASCII character.
 */
export const ROLE_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~:/@-]{1,256}$/;

export const ROLE_NAME_RULE = "a role name is 1-256 letters, digits or ! # $ % & ' * + - . ^ _ ` | ~ : / @ (no comma, semicolon, quote, space, control or non-ASCII character)";

/**
 * A subject: printable ASCII (U+0020-U+007E), no space at either end. Header parsers strip edge
 * whitespace, and bytes above 0x7F are read as Latin-1 by some stacks and as (broken) UTF-8 by
 * others, so two different subjects could reach the upstream as one.
 */
const SUBJECT = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export const isRoleName = (value: string): boolean => ROLE_NAME.test(value);
export const isSubjectValue = (value: string): boolean => SUBJECT.test(value);
