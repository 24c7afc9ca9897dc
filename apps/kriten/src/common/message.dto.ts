/** A confirmation returned by deletes and secret changes. */
export class MessageDto {
  msg: string;
}
