"""Does my CSMS answer every broken frame? `pytest test_my_csms.py --ocpp-csms URL --hypothesis-profile ocpp-ci`"""

from hypothesis import given

from chargecore.testing.plugin import OcppStationConfig
from chargecore.testing.station import OcppStation
from chargecore.testing.strategies import BrokenFrame, broken_frames


@given(frame=broken_frames())
def test_every_broken_frame_is_answered(
    ocpp_station: OcppStation, ocpp_station_config: OcppStationConfig, frame: BrokenFrame
) -> None:
    if frame.expected is not None:  # Part 4: an unreadable message id is answered as "-1"
        mark = ocpp_station.send_raw(frame.text)
        answer = ocpp_station.tap.answer_to(frame.message_id or "-1", ocpp_station_config.answer_timeout, since=mark)
        assert answer is not None, f"unanswered: {frame.reason}: {frame.text!r}"
        assert answer.message_type == 4, f"{frame.reason}: {frame.text!r} answered {answer.text!r}"
