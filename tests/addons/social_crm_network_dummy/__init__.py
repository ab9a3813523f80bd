from . import connector
from . import models
