// ES module view of the raw napi-rs addon (`import { Engine } from 'smartretry/native'`); the
// same objects as `require('smartretry/native')`.
import native from './index.js';

export const { Engine, Episode, ManualClock, Recommendation, maxCauses, version } = native;
export default native;
