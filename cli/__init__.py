from . import social_listen
