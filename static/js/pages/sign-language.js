// The sign-language page: a DGS video hosted elsewhere loads only after consent, as the stream does.
import { setUpStream } from "../features/consent.js";

setUpStream();
