import XCTest
@testable import VitEdge
final class SmokeTests: XCTestCase { func testNothing() {} }
