package expectations

// seqsKnown is what github.com/soypat/seqs (the version go.mod pins) does
// differently from RFC 9293, each found by running the spec and traced to
// seqs' source. Two kinds: what seqs leaves out by design (it is a small
// stack for microcontrollers: no retransmission, no TCP options, in-order
// segments only), and bugs, where its code does not do what it means to
// (the bugs list in the README has the evidence for each).
var seqsKnown = map[string]Deviation{
	// Bugs.
	"MUST-30":                              {Reason: seqsURGChecksum},
	"T089.ESTABLISHED":                     {Reason: seqsURGChecksum},
	"T089.FIN-WAIT-1":                      {Reason: seqsURGChecksum},
	"MUST-50":                              {Reason: seqsIPOptions},
	"MAY-2":                                {Reason: seqsFinWait1AnyACK},
	"MAY-2#2":                              {Reason: seqsFinWait1AnyACK},
	"SHLD-3#2":                             {Reason: seqsFinWait1AnyACK},
	"T006.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T006.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T010.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T010.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T015.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T021.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T023.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T028.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T029.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T029.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T050.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T050.TIME-WAIT#2":                     {Reason: seqsFinWait1AnyACK},
	"T051.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T051.FIN-WAIT-2#2":                    {Reason: seqsFinWait1AnyACK},
	"T051.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T051.TIME-WAIT#2":                     {Reason: seqsFinWait1AnyACK},
	"T052.FIN-WAIT-1#2":                    {Reason: seqsFinWait1AnyACK},
	"T052.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T054.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T055.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T055.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T056.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T060.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T062.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T069.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T073.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T073.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T074.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T079.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T079.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T080.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T081.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T082.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T083.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T088.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T089.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T090.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T091.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T091.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T093.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T097.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"T099.TIME-WAIT":                       {Reason: seqsFinWait1AnyACK},
	"T109.FIN-WAIT-1":                      {Reason: seqsFinWait1AnyACK},
	"T109.FIN-WAIT-2":                      {Reason: seqsFinWait1AnyACK},
	"suites/scripts/close-local-first.pkt": {Reason: seqsFinWait1AnyACK},
	"suites/scripts/data-after-fin-time-wait.pkt": {Reason: seqsFinWait1AnyACK},
	"suites/scripts/half-close-fin-wait.pkt":      {Reason: seqsFinWait1AnyACK},
	"suites/scripts/half-close.pkt":               {Reason: seqsFinWait1AnyACK},
	"suites/scripts/rst-time-wait.pkt":            {Reason: seqsFinWait1AnyACK},
	"T006.CLOSING":                                {Reason: seqsClosingOnSend},
	"T010.CLOSING":                                {Reason: seqsClosingOnSend},
	"T015.CLOSING":                                {Reason: seqsClosingOnSend},
	"T023.CLOSING":                                {Reason: seqsClosingOnSend},
	"T028.CLOSING":                                {Reason: seqsClosingOnSend},
	"T029.CLOSING":                                {Reason: seqsClosingOnSend},
	"T050.CLOSING":                                {Reason: seqsClosingOnSend},
	"T050.CLOSING#2":                              {Reason: seqsClosingOnSend},
	"T051.CLOSING":                                {Reason: seqsClosingOnSend},
	"T051.CLOSING#2":                              {Reason: seqsClosingOnSend},
	"T055.CLOSING":                                {Reason: seqsClosingOnSend},
	"T056.CLOSING":                                {Reason: seqsClosingOnSend},
	"T061.CLOSING":                                {Reason: seqsClosingOnSend},
	"T069.CLOSING":                                {Reason: seqsClosingOnSend},
	"T073.CLOSING":                                {Reason: seqsClosingOnSend},
	"T074.CLOSING":                                {Reason: seqsClosingOnSend},
	"T079.CLOSING":                                {Reason: seqsClosingOnSend},
	"T080.CLOSING":                                {Reason: seqsClosingOnSend},
	"T084.CLOSING":                                {Reason: seqsClosingOnSend},
	"T085.CLOSING":                                {Reason: seqsClosingOnSend},
	"T090.CLOSING":                                {Reason: seqsClosingOnSend},
	"T093.CLOSING":                                {Reason: seqsClosingOnSend},
	"T096.FIN-WAIT-1":                             {Reason: seqsClosingOnSend},
	"T098.CLOSING":                                {Reason: seqsClosingOnSend},
	"T104.CLOSING":                                {Reason: seqsClosingOnSend},
	"suites/scripts/simultaneous-close.pkt":       {Reason: seqsClosingOnSend},
	"T056.ESTABLISHED":                            {Reason: seqsChallengeACKUnreachable},
	"T056.FIN-WAIT-1":                             {Reason: seqsChallengeACKUnreachable},
	"T056.SYN-RECEIVED":                           {Reason: seqsChallengeACKUnreachable},
	"suites/scripts/rst-in-window-challenge.pkt": {Reason: seqsChallengeACKUnreachable},
	"T107.ESTABLISHED#2":                         {Reason: seqsWindowUpdateDropped},
	"T076.SYN-RECEIVED":                          {Reason: seqsSynRcvdResetSnd},
	"T076.SYN-RECEIVED#2":                        {Reason: seqsSynRcvdResetSnd},
	"T076.SYN-RECEIVED#3":                        {Reason: seqsSynRcvdResetSnd}, // Fails: "expected  ESTABLISHED", once profile files carry it
	"T041.SYN-SENT":                              {Reason: seqsSynSentSeqCheck},
	"MUST-11":                                    {Reason: seqsRSTToListen},
	"MUST-8":                                     {Reason: "the ISS is not clock-driven: successive connections on one four-tuple get ISSs a fixed step apart, whatever the time between them"}, // Fails: "want a tick between", once profile files carry it
	"T043.SYN-SENT":                              {Reason: seqsRSTToListen},
	"T055.SYN-RECEIVED":                          {Reason: seqsRSTToListen},
	"T058.SYN-RECEIVED":                          {Reason: seqsRSTToListen},
	"T059.SYN-RECEIVED":                          {Reason: seqsRSTToListen},
	"suites/scripts/rst-syn-received-active.pkt":  {Reason: seqsRSTToListen},
	"suites/scripts/rst-syn-received-passive.pkt": {Reason: seqsRSTToListen},
	"suites/scripts/rst-syn-sent.pkt":             {Reason: seqsRSTToListen},
	"T019.SYN-RECEIVED":                           {Reason: seqsFINWithoutACK},
	"T018.SYN-SENT":                               {Reason: seqsCloseSynSentState},
	"suites/scripts/simultaneous-open-synack.pkt": {Reason: seqsSynRcvdSynAck},
	// Left out by design.
	"MUST-34":                              {Reason: seqsNoRetransmission},
	"MUST-35":                              {Reason: seqsNoRetransmission},
	"MUST-36":                              {Reason: seqsNoRetransmission},
	"MUST-19.fast-retransmit":              {Reason: seqsNoRetransmission}, // Fails: "the third duplicate ACK asks for", once profile files carry it
	"T103.SYN-RECEIVED":                    {Reason: seqsNoRetransmission},
	"T104.ESTABLISHED":                     {Reason: seqsNoRetransmission},
	"T104.FIN-WAIT-1":                      {Reason: seqsNoRetransmission},
	"suites/scripts/retransmit-synack.pkt": {Reason: seqsNoRetransmission},
	"T102.SYN-SENT#2":                      {Reason: seqsSYNEvery3s},
	"MUST-14":                              {Reason: seqsNoOptions},
	"SHLD-5":                               {Reason: seqsNoOptions},
	"T002.CLOSED":                          {Reason: seqsNoOptions},
	"suites/active_open.go":                {Reason: seqsNoOptions},
	"suites/passive_open.go":               {Reason: seqsNoOptions},
	"MUST-15":                              {Reason: seqsIgnoresMSS},
	"MUST-16":                              {Reason: seqsIgnoresMSS},
	"MUST-4":                               {Reason: seqsIgnoresMSS},
	"MUST-6":                               {Reason: seqsIgnoresMSS},
	"MUST-64":                              {Reason: seqsIgnoresMSS},
	"SHLD-28":                              {Reason: seqsIgnoresMSS},
	"T077.CLOSING":                         {Reason: seqsIgnoresMSS},
	"T077.ESTABLISHED":                     {Reason: seqsIgnoresMSS},
	"T077.FIN-WAIT-1":                      {Reason: seqsIgnoresMSS},
	"T078.CLOSING":                         {Reason: seqsIgnoresMSS},
	"T078.ESTABLISHED":                     {Reason: seqsIgnoresMSS},
	"T078.FIN-WAIT-1":                      {Reason: seqsIgnoresMSS},
	"MUST-61":                              {Reason: seqsNoPSH},
	"suites/scripts/blocking-accept.pkt":   {Reason: seqsNoPSH},
	"suites/scripts/rst-exact-established.pkt": {Reason: seqsNoPSH},
	"suites/scripts/rst-out-of-window.pkt":     {Reason: seqsNoPSH},
	"suites/scripts/simultaneous-open.pkt":     {Reason: seqsNoPSH},
	"suites/scripts/data-out.pkt":              {Reason: seqsNoWScale},
	"MUST-2":                                   {Reason: seqsInOrderOnly},
	"MUST-45":                                  {Reason: seqsInOrderOnly},
	"MUST-65":                                  {Reason: seqsInOrderOnly},
	"MUST-68":                                  {Reason: seqsInOrderOnly},
	"MUST-69":                                  {Reason: seqsInOrderOnly},
	"MUST-7":                                   {Reason: seqsInOrderOnly},
	"SHLD-31":                                  {Reason: seqsInOrderOnly},
	"MAY-13":                                   {Reason: seqsInOrderOnly}, // Fails: "an immediate duplicate ACK", once profile files carry it
	"T050.ESTABLISHED":                         {Reason: seqsInOrderOnly},
	"T050.ESTABLISHED#2":                       {Reason: seqsInOrderOnly},
	"T050.FIN-WAIT-1":                          {Reason: seqsInOrderOnly},
	"T050.FIN-WAIT-1#2":                        {Reason: seqsInOrderOnly},
	"T050.SYN-RECEIVED":                        {Reason: seqsInOrderOnly},
	"T050.SYN-RECEIVED#2":                      {Reason: seqsInOrderOnly},
	"T052.ESTABLISHED#2":                       {Reason: seqsInOrderOnly},
	"T052.FIN-WAIT-1#3":                        {Reason: seqsInOrderOnly},
	"T053.ESTABLISHED":                         {Reason: seqsInOrderOnly},
	"T053.FIN-WAIT-1":                          {Reason: seqsInOrderOnly},
	"T053.FIN-WAIT-2":                          {Reason: seqsInOrderOnly},
	"T054.ESTABLISHED":                         {Reason: seqsInOrderOnly},
	"T006.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T006.LAST-ACK":                            {Reason: seqsAutoClose},
	"T009.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T010.LAST-ACK":                            {Reason: seqsAutoClose},
	"T014.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T015.LAST-ACK":                            {Reason: seqsAutoClose},
	"T022.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T023.LAST-ACK":                            {Reason: seqsAutoClose},
	"T027.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T028.LAST-ACK":                            {Reason: seqsAutoClose},
	"T029.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T029.LAST-ACK":                            {Reason: seqsAutoClose},
	"T050.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T050.CLOSE-WAIT#2":                        {Reason: seqsAutoClose},
	"T050.LAST-ACK":                            {Reason: seqsAutoClose},
	"T050.LAST-ACK#2":                          {Reason: seqsAutoClose},
	"T051.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T051.CLOSE-WAIT#2":                        {Reason: seqsAutoClose},
	"T051.LAST-ACK":                            {Reason: seqsAutoClose},
	"T051.LAST-ACK#2":                          {Reason: seqsAutoClose},
	"T055.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T055.LAST-ACK":                            {Reason: seqsAutoClose},
	"T056.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T056.LAST-ACK":                            {Reason: seqsAutoClose},
	"T060.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T061.LAST-ACK":                            {Reason: seqsAutoClose},
	"T069.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T069.LAST-ACK":                            {Reason: seqsAutoClose},
	"T073.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T073.LAST-ACK":                            {Reason: seqsAutoClose},
	"T074.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T074.LAST-ACK":                            {Reason: seqsAutoClose},
	"T077.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T078.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T079.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T080.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T086.LAST-ACK":                            {Reason: seqsAutoClose},
	"T087.LAST-ACK":                            {Reason: seqsAutoClose},
	"T090.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T090.LAST-ACK":                            {Reason: seqsAutoClose},
	"T093.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T093.LAST-ACK":                            {Reason: seqsAutoClose},
	"T094.ESTABLISHED":                         {Reason: seqsAutoClose},
	"T098.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T098.LAST-ACK":                            {Reason: seqsAutoClose},
	"T100.CLOSED":                              {Reason: seqsAutoClose},
	"T101.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T101.LAST-ACK":                            {Reason: seqsAutoClose},
	"T104.CLOSE-WAIT":                          {Reason: seqsAutoClose},
	"T104.LAST-ACK":                            {Reason: seqsAutoClose},
	"T105.CLOSE-WAIT#2":                        {Reason: seqsAutoClose},
	"T105.LAST-ACK#2":                          {Reason: seqsAutoClose},
	"T107.CLOSE-WAIT#2":                        {Reason: seqsAutoClose},
	"T108.CLOSE-WAIT#4":                        {Reason: seqsAutoClose},
	"suites/passive_close.go":                  {Reason: seqsAutoClose},
	"suites/scripts/close-remote-first.pkt":    {Reason: seqsAutoClose},
	"suites/scripts/data-after-fin-close-wait.pkt": {Reason: seqsAutoClose},
	"suites/scripts/half-close-close-wait.pkt":     {Reason: seqsAutoClose},
	"T095.FIN-WAIT-1":           {Reason: seqsNoTimeWait},
	"T017.LISTEN":               {Reason: seqsNoRSTClosed},
	"T026.LISTEN":               {Reason: seqsNoRSTClosed},
	"T031.CLOSED":               {Reason: seqsNoRSTClosed},
	"T032.CLOSED":               {Reason: seqsNoRSTClosed},
	"suites/closed_port_ack.go": {Reason: seqsNoRSTClosed},
	"suites/closed_port_syn.go": {Reason: seqsNoRSTClosed},
	"suites/scripts/rst-closed-port-forms.pkt": {Reason: seqsNoRSTClosed},
	"suites/scripts/rst-closed-port.pkt":       {Reason: seqsNoRSTClosed},
	"T034.LISTEN":                              {Reason: seqsListenNoRST},
	"T035.LISTEN":                              {Reason: seqsListenNoRST},
	"MUST-63":                                  {Reason: seqsNoAddressCheck},
	"T003.CLOSED":                              {Reason: seqsNoAddressCheck},
	"T038.LISTEN#2":                            {Reason: seqsNoAddressCheck},
	"MUST-26":                                  {Reason: seqsNoKeepAlive},
	"MUST-29":                                  {Reason: seqsNoKeepAlive},
	"T108.ESTABLISHED#4":                       {Reason: seqsNoKeepAlive},
	"SHLD-7":                                   {Reason: seqsNoNagle}, // Fails: "Nagle should be on unless the application turns it off", once profile files carry it
	"SHLD-18":                                  {Reason: seqsNoDelayedACK},
	"MUST-38":                                  {Reason: seqsNoSenderSWS},
	"MUST-38.data-in-flight":                   {Reason: seqsNoSenderSWS},         // Fails: "the target sent into a window that had opened by a sliver", once profile files carry it
	"MUST-27":                                  {Reason: seqsNoKeepAlive},         // Fails: "SO_KEEPALIVE", once profile files carry it
	"MUST-19.initial-window":                   {Reason: seqsNoCongestionControl}, // Fails: "more than the initial window", once profile files carry it
	"MUST-19.slow-start":                       {Reason: seqsNoCongestionControl}, // Fails: "no congestion window limits its flight", once profile files carry it
	"MUST-19.loss-window":                      {Reason: seqsNoCongestionControl}, // Fails: "no congestion window limits its flight", once profile files carry it
	"MUST-39":                                  {Reason: seqsNoWindowUpdate},
	"MUST-39.window-update":                    {Reason: seqsNoWindowUpdate}, // Fails: "sent without a probe from the peer once the application has read", once profile files carry it
	"SHLD-14":                                  {Reason: seqsNoWindowUpdate},
	"MUST-54":                                  {Reason: seqsNoICMP},
	"SHLD-26":                                  {Reason: seqsNoICMP},
	"SHLD-8":                                   {Reason: seqsNoECN},
	"T013.FIN-WAIT-1":                          {Reason: seqsNoHalfClose},
	"T013.FIN-WAIT-2":                          {Reason: seqsNoHalfClose},
	"T050.FIN-WAIT-2":                          {Reason: seqsNoHalfClose},
	"T050.FIN-WAIT-2#2":                        {Reason: seqsNoHalfClose},
	"T054.FIN-WAIT-1":                          {Reason: seqsNoHalfClose},
	"T073.FIN-WAIT-1":                          {Reason: seqsNoHalfClose},
	"T074.FIN-WAIT-2":                          {Reason: seqsNoHalfClose},
	"T027.ESTABLISHED":                         {Reason: seqsNoAbortRST},
	"T027.FIN-WAIT-1":                          {Reason: seqsNoAbortRST},
	"T027.FIN-WAIT-2":                          {Reason: seqsNoAbortRST},
	"T027.SYN-RECEIVED":                        {Reason: seqsNoAbortRST},
	"T066.SYN-RECEIVED":                        {Reason: seqsSYNIgnored},
	"T067.SYN-RECEIVED":                        {Reason: seqsSYNIgnored},
	"T069.ESTABLISHED":                         {Reason: seqsSYNIgnored},
	"T069.FIN-WAIT-1":                          {Reason: seqsSYNIgnored},
	"suites/scripts/syn-established-challenge.pkt": {Reason: seqsSYNIgnored},
	"T047.SYN-SENT":     {Reason: seqsSynAckFIN},
	"T094.SYN-RECEIVED": {Reason: seqsSynRcvdFIN},
	"T073.ESTABLISHED":  {Reason: seqsNoACKBit},
	"T074.ESTABLISHED":  {Reason: seqsNoACKCheck},
	"T074.FIN-WAIT-1":   {Reason: seqsNoACKCheck},
	"SHLD-3":            {Reason: seqsCloseUnreadFIN},
}

const (
	seqsURGChecksum             = "a segment whose urgent pointer is not zero fails seqs' checksum test and is dropped: TCPHeader.CalculateChecksumIPv4 leaves the urgent pointer out of the sum (eth/headers.go), so URG data is never acknowledged nor delivered"
	seqsIPOptions               = "data under IP options is cut short by the options' length: TCPPacket.dataPtrs subtracts the IP options' length from the payload's end where it must add it (stacks/port_tcp.go), and the short segment is acknowledged as if whole"
	seqsFinWait1AnyACK          = "in FIN-WAIT-1 any acceptable ACK moves the connection to FIN-WAIT-2, whether it covers the FIN or not (an ACK of data only, or of data never sent), and is itself answered with an ACK (control.go rcvFinWait1 queues one on every branch): FIN-WAIT-2 and TIME-WAIT are reached with an extra ACK, before the peer's FIN"
	seqsClosingOnSend           = "CLOSING is left for TIME-WAIT when seqs sends its ACK of the peer's FIN, not when the ACK of its own FIN arrives (control_user.go Send), and TIME-WAIT ends at once: after a simultaneous close the connection is CLOSED at once"
	seqsChallengeACKUnreachable = "an in-window RST that is not at exactly RCV.NXT is dropped silently: ControlBlock.validateIncomingSegment rejects it as out of order (seqs takes in-order segments only) before handleRST, whose RFC 5961 section 3.2 challenge ACK is therefore never sent"
	seqsWindowUpdateDropped     = "a pure ACK that acknowledges nothing new is dropped as a duplicate before its window is taken (control.go validateIncomingSegment), so a window update that closes the window is ignored and data goes out into it"
	seqsSynRcvdResetSnd         = "after answering an unacceptable ACK in SYN-RECEIVED with <SEQ=SEG.ACK><CTL=RST>, seqs resets SND.NXT to the ISS (control.go validateIncomingSegment calls resetSnd), so the right ACK of its SYN then looks like an ACK of unsent data and is reset too: the handshake can no longer complete"
	seqsSynSentSeqCheck         = "in SYN-SENT a segment without SYN is checked against RCV.NXT, which is 0 before the peer's SYN (ControlBlock.Open), so an unacceptable ACK is dropped as out of window instead of drawing <SEQ=SEG.ACK><CTL=RST>"
	seqsRSTToListen             = "an RST in SYN-SENT (with an acceptable ACK or with none) or an acceptable one in SYN-RECEIVED puts the control block in LISTEN (ControlBlock.handleRST): an active open that is refused is not closed (connect() never fails, the tuple reads LISTEN), and a reset passive child stays tied to its peer in LISTEN instead of being dropped"
	seqsFINWithoutACK           = "close() in SYN-RECEIVED sends a FIN without the ACK bit: ControlBlock.PendingSegment adds ACK only in ESTABLISHED"
	seqsCloseSynSentState       = "close() in SYN-SENT deletes the control block, but TCPConn.State reports FIN-WAIT-1 (it counts a closing socket whose control block is not in a closing state as FIN-WAIT-1, and CLOSED is not one), and the connection lingers until the 3 s idle abort"
	seqsSynRcvdSynAck           = "in SYN-RECEIVED after a simultaneous open, the peer's SYN,ACK (its SYN again, SEG.SEQ = IRS) is taken as new: the sequence checks skip any SYN (control.go validateIncomingSegment) and Recv advances RCV.NXT past it, so the peer's data at IRS+1 is then out of order and never taken"
	seqsNoRetransmission        = "no retransmission: TCPConn.send takes data out of the send ring as it first sends it, and a SYN,ACK or FIN is sent once; only a SYN is sent again, every 3 s (TCPConn.mustSendSyn). A closing connection with nothing sent for 3 s is dropped (TCPConn.stateCheck)"
	seqsSYNEvery3s              = "a SYN is sent again every 3 s (TCPConn.mustSendSyn), not after RFC 6298's initial RTO of 1 s"
	seqsNoOptions               = "seqs sends no TCP options: every segment has a 20-octet header (TCPPacket.CalculateHeaders), so the SYN and SYN,ACK carry no MSS option"
	seqsIgnoresMSS              = "the peer's TCP options are skipped (PortStack.RecvEth), its MSS included: segments are as large as the link allows (1460 octets) whatever MSS the peer announced, or 536 without one"
	seqsNoPSH                   = "PSH is never set: ControlBlock.PendingSegment builds a segment's flags from ACK, SYN, FIN and RST only"
	seqsNoWScale                = "no window scaling (RFC 7323): the peer's window of 257 is taken as 257 octets, not scaled by the 2^7 its SYN asked for; and PSH is never set (ControlBlock.PendingSegment)"
	seqsInOrderOnly             = "seqs takes in-order segments only (ControlBlock.validateIncomingSegment, by design: no reassembly queue), and a segment it does not take, out of order, old, beyond or into a zero window, is dropped without the ACK RFC 9293 section 3.10.7.4 asks for (TCPConn.recv queues nothing)"
	seqsAutoClose               = "on the peer's FIN seqs queues its own FIN at once (control.go rcvEstablished, and Send in CLOSE-WAIT queues FIN,ACK): CLOSE-WAIT lasts only until its ACK is sent and the connection goes to LAST-ACK without the application's CLOSE"
	seqsNoTimeWait              = "no TIME-WAIT: State.IsClosed counts TIME-WAIT as closed, so TCPConn.stateCheck drops the connection the moment it enters it"
	seqsNoRSTClosed             = "a segment to a port with no socket is dropped silently: PortStack.RecvEth finds no port for it and sends nothing (no RST, RFC 9293 section 3.10.7.1)"
	seqsListenNoRST             = "in LISTEN a segment other than a SYN is dropped silently (TCPListener.recv finds no connection for it), with no <SEQ=SEG.ACK><CTL=RST>"
	seqsNoAddressCheck          = "no check of addresses: a SYN from a broadcast or unspecified source is answered, and connect() to a multicast address sends a SYN"
	seqsNoKeepAlive             = "no keep-alive: seqs has no timer to send probes, so SO_KEEPALIVE is refused (ENOPROTOOPT)"
	seqsNoNagle                 = "no Nagle algorithm (RFC 9293 section 3.7.4): data goes out as soon as the window allows, so TCP_NODELAY 0 is refused (ENOPROTOOPT)"
	seqsNoDelayedACK            = "no delayed ACK: every segment is acknowledged at once"
	seqsNoCongestionControl     = "no congestion control (RFC 5681): no congestion window, so no initial window, slow start or loss window; data goes out as far as the peer's window allows, and is never retransmitted"
	seqsNoSenderSWS             = "no sender silly-window avoidance: a small usable window is filled at once"
	seqsNoWindowUpdate          = "no window update when the application reads: TCPConn.Read frees room in the receive ring but queues no segment, so a closed window is reopened only by the next segment seqs sends for another reason"
	seqsNoICMP                  = "ICMP is not handled: PortStack.RecvEth takes TCP and UDP only"
	seqsNoECN                   = "no Explicit Congestion Notification (RFC 3168): the SYN,ACK does not agree to ECN"
	seqsNoHalfClose             = "no half-close for the application: a TCPConn has Close only (shutdown(SHUT_WR) here), and once it is called Read refuses (TCPConn.checkPipeOpen), buffered data or not, so read() reports end of stream"
	seqsNoAbortRST              = "no ABORT that sends RST: the one way seqs offers to drop a connection, PortStack.CloseTCP (close() with SO_LINGER {1, 0} here), deletes it silently"
	seqsSYNIgnored              = "a SYN in SYN-RECEIVED or a synchronized state is ignored (the sequence checks skip a SYN, and the state handlers look at data, FIN and ACK only): neither RFC 5961's challenge ACK nor a reset"
	seqsSynAckFIN               = "a FIN on the SYN,ACK is ignored (control.go rcvSynSent): the connection becomes ESTABLISHED and the ACK covers the SYN only"
	seqsSynRcvdFIN              = "a FIN on the ACK that completes the handshake is ignored (control.go rcvSynRcvd only moves to ESTABLISHED): it is neither acknowledged nor reported"
	seqsNoACKBit                = "text without the ACK bit is taken and acknowledged: seqs does not check the ACK bit in the synchronized states"
	seqsNoACKCheck              = "no RFC 5961 section 5.2 check of the ACK field: text whose ACK lies far below SND.UNA is taken and acknowledged"
	seqsCloseUnreadFIN          = "close() with unread data sends a FIN, not an RST: TCPConn.Close does not look at the receive ring"
)
